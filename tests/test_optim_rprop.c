/* test_optim_rprop.c - Rprop against values worked out by hand from
 * PyTorch's definition: per element, the step size starts at lr, grows by
 * eta_plus while the gradient keeps its sign, shrinks by eta_minus when it
 * flips (and that gradient then counts as 0), and is clamped to
 * [step_min, step_max]; the element moves by -sign(gradient) * step. */
#include "relunet.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* A 3-input linear unit: weight[0..2] and bias are four independent
   elements, each given its own gradient sequence. */
static rn_net *make_unit(const float *start)
{
    rn_net *net = rn_net_new(1, (int[]){3});
    int j;
    rn_net_add_linear(net, 1);
    for (j = 0; j < 3; j++) rn_net_param(net, 0)->value.data[j] = start[j];
    rn_net_param(net, 1)->value.data[0] = start[3];
    return net;
}

static void set_grads(rn_net *net, const float *grads)
{
    int j;
    for (j = 0; j < 3; j++) rn_net_param(net, 0)->grad.data[j] = grads[j];
    rn_net_param(net, 1)->grad.data[0] = grads[3];
}

static float element(rn_net *net, int j)
{
    return j < 3 ? rn_net_param(net, 0)->value.data[j] : rn_net_param(net, 1)->value.data[0];
}

/* Close relative to the value itself: the clamp tests move by 1e-6. */
static int close_to(float value, double expected)
{
    return fabs(value - expected) <= 1e-6 * fabs(expected) + 1e-12;
}

/* Runs steps optimizer steps with grads[step][element] and checks every
   element against expected[step][element] after each step. */
static void run_and_check(const rn_optim_desc *desc, const float *start, int steps,
                          const float grads[][4], const double expected[][4])
{
    rn_net *net = make_unit(start);
    rn_optim *opt = rn_optim_new(net, desc);
    int step, j;
    CHECK(opt != NULL);
    for (step = 0; opt != NULL && step < steps; step++) {
        set_grads(net, grads[step]);
        CHECK(rn_optim_step(opt) == RN_OK);
        for (j = 0; j < 4; j++) {
            if (close_to(element(net, j), expected[step][j])) continue;
            fprintf(stderr, "step %d element %d: %.9g, expected %.9g\n", step + 1, j,
                    (double)element(net, j), expected[step][j]);
            CHECK(0);
        }
    }
    rn_optim_free(opt);
    rn_net_free(net);
}

/* lr 0.1, default etas. Element by element:
   0: g +1 +1 +1 -1 -1 -2: steps .1 .12 .144, flip -> .072 (no move), then
      .072 (previous counted 0: no growth) and .0864.
   1: g 0 throughout: never moves.
   2: g +.001 +1000 -3 +2 +2 +2: the size of g does not matter; flip at 3
      -> .06 (no move), then .06 .072 .0864.
   3: g -1 six times: .1 .12 .144 .1728 .20736 .248832, upwards. */
static void test_signs_growth_and_flips(void)
{
    static const float start[4] = {1.0f, 0.5f, 0.0f, 0.0f};
    static const float grads[6][4] = {{1, 0, 0.001f, -1}, {1, 0, 1000, -1}, {1, 0, -3, -1},
                                       {-1, 0, 2, -1},     {-1, 0, 2, -1},    {-2, 0, 2, -1}};
    static const double expected[6][4] = {
        {0.9, 0.5, -0.1, 0.1},      {0.78, 0.5, -0.22, 0.22},   {0.636, 0.5, -0.22, 0.364},
        {0.636, 0.5, -0.28, 0.5368}, {0.708, 0.5, -0.352, 0.74416}, {0.7944, 0.5, -0.4384, 0.992992}};
    rn_optim_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.kind = RN_RPROP;
    desc.lr = 0.1f;
    run_and_check(&desc, start, 6, grads, expected);
}

/* Default step bounds [1e-6, 50].
   0: lr 30, g +1: steps 30 36 43.2, then 51.84 clamped to 50, 50.
   The other elements start at lr 30 too; 1 sees + - + - +: 30, flip -> 15
   (no move), 15, flip -> 7.5 (no move), 7.5. */
static void test_step_max_clamp(void)
{
    static const float start[4] = {0, 0, 0, 0};
    static const float grads[5][4] = {{1, 1, 0, 0}, {1, -1, 0, 0}, {1, 1, 0, 0}, {1, -1, 0, 0},
                                      {1, 1, 0, 0}};
    static const double expected[5][4] = {{-30, -30, 0, 0},    {-66, -30, 0, 0},
                                          {-109.2, -45, 0, 0}, {-159.2, -45, 0, 0},
                                          {-209.2, -52.5, 0, 0}};
    rn_optim_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.kind = RN_RPROP;
    desc.lr = 30.0f;
    run_and_check(&desc, start, 5, grads, expected);
}

/* lr 3e-6, g + - + - +: 3e-6, flip -> 1.5e-6 (no move), 1.5e-6, flip ->
   0.75e-6 clamped to 1e-6 (no move), 1e-6. */
static void test_step_min_clamp(void)
{
    static const float start[4] = {0, 0, 0, 0};
    static const float grads[5][4] = {{1, 0, 0, 0}, {-1, 0, 0, 0}, {1, 0, 0, 0}, {-1, 0, 0, 0},
                                      {1, 0, 0, 0}};
    static const double expected[5][4] = {{-3e-6, 0, 0, 0}, {-3e-6, 0, 0, 0}, {-4.5e-6, 0, 0, 0},
                                          {-4.5e-6, 0, 0, 0}, {-5.5e-6, 0, 0, 0}};
    rn_optim_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.kind = RN_RPROP;
    desc.lr = 3e-6f;
    run_and_check(&desc, start, 5, grads, expected);
}

/* eta_minus 0.25, eta_plus 2, step_max 0.3, lr 0.1, g + + + - +:
   0.1 0.2, 0.4 clamped to 0.3, flip -> 0.075 (no move), 0.075. */
static void test_custom_etas_and_bounds(void)
{
    static const float start[4] = {0, 0, 0, 0};
    static const float grads[5][4] = {{1, 0, 0, 0}, {1, 0, 0, 0}, {1, 0, 0, 0}, {-1, 0, 0, 0},
                                      {1, 0, 0, 0}};
    static const double expected[5][4] = {{-0.1, 0, 0, 0}, {-0.3, 0, 0, 0}, {-0.6, 0, 0, 0},
                                          {-0.6, 0, 0, 0}, {-0.675, 0, 0, 0}};
    rn_optim_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.kind = RN_RPROP;
    desc.lr = 0.1f;
    desc.eta_minus = 0.25f;
    desc.eta_plus = 2.0f;
    desc.step_max = 0.3f;
    run_and_check(&desc, start, 5, grads, expected);
}

/* The first step size is each group's lr (PyTorch's per-group lr), and the
   default lr is 0.01 as in torch.optim.Rprop. */
static void test_group_lr_and_default_lr(void)
{
    static const float start[4] = {0, 0, 0, 0}, ones[4] = {1, 1, 1, 1};
    rn_optim_desc desc;
    rn_net *net = make_unit(start);
    rn_optim *opt;
    memset(&desc, 0, sizeof desc);
    desc.kind = RN_RPROP;
    opt = rn_optim_new(net, &desc);
    rn_optim_set_group(opt, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), 0.5f, 0.0f);
    set_grads(net, ones);
    CHECK(rn_optim_step(opt) == RN_OK);
    set_grads(net, ones);
    CHECK(rn_optim_step(opt) == RN_OK);
    CHECK_NEAR(element(net, 0), -0.022, 1e-6);
    CHECK_NEAR(element(net, 3), -1.1, 1e-6);
    rn_optim_free(opt);
    rn_net_free(net);
}

/* rn_optim_new_params optimises parameters no network owns. */
static void test_params_outside_a_network(void)
{
    rn_param param;
    rn_param *list[1];
    rn_optim_desc desc;
    rn_optim *opt;
    memset(&param, 0, sizeof param);
    rn_tensor_new(&param.value, 1, (int[]){2});
    rn_tensor_new(&param.grad, 1, (int[]){2});
    param.min = -INFINITY;
    param.max = INFINITY;
    param.grad.data[0] = 1.0f;
    param.grad.data[1] = -1.0f;
    list[0] = &param;
    memset(&desc, 0, sizeof desc);
    desc.kind = RN_RPROP;
    desc.lr = 0.25f;
    opt = rn_optim_new_params(list, 1, &desc);
    CHECK(opt != NULL);
    CHECK(rn_optim_step(opt) == RN_OK);
    CHECK(param.value.data[0] == -0.25f && param.value.data[1] == 0.25f);
    CHECK(rn_optim_new_params(NULL, 1, &desc) == NULL);
    rn_optim_free(opt);
    rn_tensor_free(&param.value);
    rn_tensor_free(&param.grad);
}

int main(void)
{
    RUN(test_signs_growth_and_flips);
    RUN(test_step_max_clamp);
    RUN(test_step_min_clamp);
    RUN(test_custom_etas_and_bounds);
    RUN(test_group_lr_and_default_lr);
    RUN(test_params_outside_a_network);
    return finish();
}
