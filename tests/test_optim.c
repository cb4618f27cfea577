/* Optimizer steps against reference values, groups, projection, freezing. */
#include "relunet.h"
#include "harness.h"

#include <string.h>

/* The gradients fed to every optimizer: step s gives (g, -g/2) for g below. */
static const float gradient_sequence[4] = {0.5f, -0.2f, 0.1f, 0.3f};

/* A network whose first parameter is a 1x2 weight starting at (1, -2). */
static rn_net *two_weight_net(void)
{
    rn_net *net = rn_net_new(1, (int[]){2});
    rn_net_add_linear(net, 1);
    rn_net_param(net, 0)->value.data[0] = 1.0f;
    rn_net_param(net, 0)->value.data[1] = -2.0f;
    rn_net_param(net, 1)->value.data[0] = 0.0f;
    return net;
}

static void set_gradient(rn_net *net, int step)
{
    rn_net_zero_grad(net);
    rn_net_param(net, 0)->grad.data[0] = gradient_sequence[step];
    rn_net_param(net, 0)->grad.data[1] = -0.5f * gradient_sequence[step];
}

/* Runs four steps and compares the weight after each with expected[step]. */
static void check_trajectory(const rn_optim_desc *desc, const double expected[4][2])
{
    rn_net *net = two_weight_net();
    rn_optim *opt = rn_optim_new(net, desc);
    int step;
    CHECK(opt != NULL);
    for (step = 0; step < 4 && opt != NULL; step++) {
        set_gradient(net, step);
        CHECK(rn_optim_step(opt) == RN_OK);
        CHECK_NEAR(rn_net_param(net, 0)->value.data[0], expected[step][0], 2e-6);
        CHECK_NEAR(rn_net_param(net, 0)->value.data[1], expected[step][1], 2e-6);
    }
    rn_optim_free(opt);
    rn_net_free(net);
}

/* Expected values below come from torch.optim (PyTorch 1.13, float64) run on
   the same starting point and gradients. */
static void test_sgd_momentum_weight_decay(void)
{
    static const double expected[4][2] = {{0.949, -1.973}, {0.922151, -1.956727},
                                          {0.887064749, -1.935124573}, {0.824600058, -1.898747264}};
    rn_optim_desc desc = {.kind = RN_SGD, .lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f};
    check_trajectory(&desc, expected);
}

static void test_sgd_nesterov(void)
{
    static const double expected[4][2] = {{0.9031, -1.9487}, {0.89807411, -1.94212747},
                                          {0.855657258, -1.915775981}, {0.768664609, -1.866167581}};
    rn_optim_desc desc = {.kind = RN_SGD, .lr = 0.1f, .momentum = 0.9f, .nesterov = 1,
                          .weight_decay = 0.01f};
    check_trajectory(&desc, expected);
}

static void test_sgd_dampening(void)
{
    static const double expected[4][2] = {{0.95, -1.975}, {0.939, -1.9695}, {0.9265, -1.96325},
                                          {0.89925, -1.949625}};
    rn_optim_desc desc = {.kind = RN_SGD, .lr = 0.1f, .momentum = 0.5f, .dampening = 0.3f};
    check_trajectory(&desc, expected);
}

static void test_adam_with_l2(void)
{
    static const double expected[4][2] = {{0.900000002, -1.900000002}, {0.847519063, -1.819695907},
                                          {0.790162183, -1.735466362}, {0.72006109, -1.64611316}};
    rn_optim_desc desc = {.kind = RN_ADAM, .lr = 0.1f, .weight_decay = 0.1f};
    check_trajectory(&desc, expected);
}

static void test_adamw(void)
{
    static const double expected[4][2] = {{0.890000002, -1.880000004}, {0.846539418, -1.826639421},
                                          {0.800134847, -1.770433851}, {0.736938989, -1.697535005}};
    rn_optim_desc desc = {.kind = RN_ADAMW, .lr = 0.1f, .weight_decay = 0.1f};
    check_trajectory(&desc, expected);
}

/* A group with its own rate: plain SGD, so one step moves p by lr * g. */
static void test_groups_and_lr_scale(void)
{
    rn_net *net = two_weight_net();
    rn_optim *opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = 0.1f});
    rn_param *bias = rn_net_param(net, 1);
    CHECK(rn_optim_set_group(opt, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), 1.0f, 0.0f) == RN_OK);
    set_gradient(net, 0);
    bias->grad.data[0] = 0.25f;
    rn_optim_step(opt);
    CHECK_NEAR(rn_net_param(net, 0)->value.data[0], 1.0 - 0.1 * 0.5, 1e-7);
    CHECK_NEAR(bias->value.data[0], -0.25, 1e-7);
    rn_optim_scale_lr(opt, 0.5f);
    rn_optim_step(opt);
    CHECK_NEAR(rn_net_param(net, 0)->value.data[0], 1.0 - 0.1 * 0.5 - 0.05 * 0.5, 1e-7);
    CHECK_NEAR(bias->value.data[0], -0.25 - 0.125, 1e-7);
    rn_optim_free(opt);
    rn_net_free(net);
}

static void test_projection_and_freezing(void)
{
    rn_net *net = two_weight_net();
    rn_optim *opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = 1.0f});
    rn_param *weight = rn_net_param(net, 0), *bias = rn_net_param(net, 1);
    rn_net_set_range(net, RN_PARAMS_NAMED("weight"), -1.5f, 0.75f);
    rn_net_set_frozen(net, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), 1);
    set_gradient(net, 0); /* moves the weight to (0.5, -1.75) before clamping */
    bias->grad.data[0] = 3.0f;
    CHECK(rn_optim_step(opt) == RN_OK);
    CHECK(weight->value.data[0] == 0.5f);
    CHECK(weight->value.data[1] == -1.5f);
    CHECK(bias->value.data[0] == 0.0f);
    weight->grad.data[0] = -10.0f; /* would reach 10.5 */
    CHECK(rn_optim_step(opt) == RN_OK);
    CHECK(weight->value.data[0] == 0.75f);
    CHECK(bias->value.data[0] == 0.0f);
    rn_optim_free(opt);
    rn_net_free(net);
}

static void test_non_finite_gradient_changes_nothing(void)
{
    rn_net *net = two_weight_net();
    rn_optim *opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_ADAM});
    rn_param *weight = rn_net_param(net, 0);
    set_gradient(net, 0);
    rn_net_param(net, 1)->grad.data[0] = NAN;
    CHECK(rn_optim_step(opt) == RN_ERR_NUMERIC);
    CHECK(strstr(rn_last_error(), "linear1.bias") != NULL);
    CHECK(weight->value.data[0] == 1.0f && weight->value.data[1] == -2.0f);
    rn_net_param(net, 1)->grad.data[0] = INFINITY;
    CHECK(rn_optim_step(opt) == RN_ERR_NUMERIC);
    rn_net_param(net, 1)->grad.data[0] = 0.0f;
    CHECK(rn_optim_step(opt) == RN_OK);
    CHECK(weight->value.data[0] != 1.0f);
    rn_optim_free(opt);
    rn_net_free(net);
}

/* Minimises p^2 / 2 from p = 1 with p frozen for the first step, then 3
   steps at lr 0.1: a parameter's state starts at its own first update.
   torch.optim (1.13, float64) ends at these values; the optimizer state
   kept per step rather than per parameter gave 0.731, 0.750, 0.99999. */
static double unfreeze_late(const rn_optim_desc *desc)
{
    rn_net *net = rn_net_new(1, (int[]){1});
    rn_optim *opt;
    rn_param *p;
    double value;
    int step;
    rn_net_add_linear(net, 1);
    rn_net_remove_bias(net);
    p = rn_net_param(net, 0);
    p->value.data[0] = 1.0f;
    opt = rn_optim_new(net, desc);
    p->frozen = 1;
    p->grad.data[0] = 5.0f; /* ignored: the parameter is frozen */
    CHECK(rn_optim_step(opt) == RN_OK);
    p->frozen = 0;
    for (step = 0; step < 3; step++) {
        p->grad.data[0] = p->value.data[0];
        CHECK(rn_optim_step(opt) == RN_OK);
    }
    value = p->value.data[0];
    rn_optim_free(opt);
    rn_net_free(net);
    return value;
}

static void test_state_starts_at_first_update(void)
{
    CHECK_NEAR(unfreeze_late(&(rn_optim_desc){.kind = RN_SGD, .lr = 0.1f, .momentum = 0.9f,
                                              .dampening = 0.5f}), 0.60525, 1e-6);
    CHECK_NEAR(unfreeze_late(&(rn_optim_desc){.kind = RN_ADAM, .lr = 0.1f}), 0.701586274504415,
               1e-6);
    CHECK_NEAR(unfreeze_late(&(rn_optim_desc){.kind = RN_ADAMW, .lr = 0.1f}), 0.701586274504415,
               1e-6);
    CHECK_NEAR(unfreeze_late(&(rn_optim_desc){.kind = RN_RPROP, .lr = 0.1f}), 0.636, 1e-6);
}

/* Every setting torch.optim refuses is refused, with the value named. */
static void check_refused(rn_optim_desc desc, const char *named)
{
    rn_net *net = two_weight_net();
    rn_optim *opt = rn_optim_new(net, &desc);
    CHECK(opt == NULL);
    if (strstr(rn_last_error(), named) == NULL)
        fprintf(stderr, "message \"%s\" does not name %s\n", rn_last_error(), named);
    CHECK(strstr(rn_last_error(), named) != NULL);
    rn_optim_free(opt);
    rn_net_free(net);
}

static void test_bad_hyper_parameters(void)
{
    check_refused((rn_optim_desc){.kind = RN_SGD, .lr = NAN}, "lr = nan");
    check_refused((rn_optim_desc){.kind = RN_SGD, .lr = -1.0f}, "lr = -1");
    check_refused((rn_optim_desc){.kind = RN_SGD, .lr = INFINITY}, "lr = inf");
    check_refused((rn_optim_desc){.kind = RN_ADAM, .beta1 = 1.0f}, "beta1 = 1");
    check_refused((rn_optim_desc){.kind = RN_ADAM, .beta2 = 1.5f}, "beta2 = 1.5");
    check_refused((rn_optim_desc){.kind = RN_ADAMW, .beta1 = -0.5f}, "beta1 = -0.5");
    check_refused((rn_optim_desc){.kind = RN_ADAM, .eps = -1.0f}, "eps = -1");
    check_refused((rn_optim_desc){.kind = RN_SGD, .momentum = -0.5f}, "momentum = -0.5");
    check_refused((rn_optim_desc){.kind = RN_SGD, .weight_decay = -1.0f}, "weight_decay = -1");
    check_refused((rn_optim_desc){.kind = RN_SGD, .nesterov = 1}, "Nesterov");
    check_refused((rn_optim_desc){.kind = RN_SGD, .nesterov = 1, .momentum = 0.9f,
                                  .dampening = 0.1f}, "dampening 0.1");
    check_refused((rn_optim_desc){.kind = RN_SGD, .momentum = 0.9f, .dampening = 2.0f},
                  "dampening = 2");
    check_refused((rn_optim_desc){.kind = RN_RPROP, .eta_minus = 2.0f, .eta_plus = 1.5f},
                  "eta_minus = 2");
    check_refused((rn_optim_desc){.kind = RN_RPROP, .eta_plus = 0.9f}, "eta_plus = 0.9");
    check_refused((rn_optim_desc){.kind = RN_RPROP, .step_min = 1.0f, .step_max = 0.5f},
                  "step sizes [1, 0.5]");
}

/* Groups and schedules refuse NaN and negative rates and change nothing. */
static void test_bad_group_and_scale(void)
{
    rn_net *net = two_weight_net();
    rn_optim *opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = 0.1f});
    rn_param *weight = rn_net_param(net, 0);
    CHECK(rn_optim_set_group(opt, RN_PARAMS_ALL, NAN, 0.0f) == RN_ERR_ARGUMENT);
    CHECK(strstr(rn_last_error(), "lr = nan") != NULL);
    CHECK(rn_optim_set_group(opt, RN_PARAMS_ALL, 0.1f, -1.0f) == RN_ERR_ARGUMENT);
    CHECK(strstr(rn_last_error(), "weight_decay = -1") != NULL);
    CHECK(rn_optim_scale_lr(opt, NAN) == RN_ERR_ARGUMENT);
    CHECK(strstr(rn_last_error(), "factor = nan") != NULL);
    CHECK(rn_optim_scale_lr(opt, -2.0f) == RN_ERR_ARGUMENT);
    CHECK(rn_optim_scale_lr(opt, 1e30f) == RN_OK);
    CHECK(rn_optim_scale_lr(opt, 1e30f) == RN_ERR_ARGUMENT); /* 1e59 overflows a float */
    CHECK(rn_optim_scale_lr(NULL, 1.0f) == RN_ERR_ARGUMENT);
    CHECK(rn_optim_scale_lr(opt, 1e-30f) == RN_OK);
    set_gradient(net, 0);
    CHECK(rn_optim_step(opt) == RN_OK);
    CHECK_NEAR(weight->value.data[0], 1.0 - 0.1 * 0.5, 1e-6); /* lr is 0.1 again */
    rn_optim_free(opt);
    rn_net_free(net);
}

static void test_bad_arguments(void)
{
    rn_net *net = two_weight_net();
    CHECK(rn_optim_new(NULL, &(rn_optim_desc){.kind = RN_SGD}) == NULL);
    CHECK(rn_optim_new(net, NULL) == NULL);
    CHECK(rn_optim_new(net, &(rn_optim_desc){.kind = (rn_optim_kind)99}) == NULL);
    CHECK(rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = -1.0f}) == NULL);
    CHECK(rn_optim_step(NULL) == RN_ERR_ARGUMENT);
    CHECK(rn_optim_set_group(NULL, RN_PARAMS_ALL, 0.1f, 0.0f) == RN_ERR_ARGUMENT);
    rn_net_free(net);
}

int main(void)
{
    RUN(test_sgd_momentum_weight_decay);
    RUN(test_sgd_nesterov);
    RUN(test_sgd_dampening);
    RUN(test_adam_with_l2);
    RUN(test_adamw);
    RUN(test_groups_and_lr_scale);
    RUN(test_projection_and_freezing);
    RUN(test_non_finite_gradient_changes_nothing);
    RUN(test_state_starts_at_first_update);
    RUN(test_bad_arguments);
    RUN(test_bad_hyper_parameters);
    RUN(test_bad_group_and_scale);
    return finish();
}
