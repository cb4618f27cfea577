/* gradcheck.h - finite-difference gradient checks for layers and losses.
 *
 * A layer is checked through the scalar L = sum_i r_i * y_i with fixed
 * random weights r, so dL/dy = r is the upstream gradient. The reference
 * derivative of every input and parameter element is the central difference
 * (L(v + h) - L(v - h)) / 2h with L summed in double precision. The result
 * is the relative error of the whole gradient vector,
 *     ||numeric - analytic|| / max(||numeric||, ||analytic||),
 * worst over the input and each parameter. Callers place x away from kinks.
 */
#ifndef RELUNET_TEST_GRADCHECK_H
#define RELUNET_TEST_GRADCHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GRADCHECK_STEP 1e-3f

static double gradcheck_weighted_sum(const rn_tensor *y, const rn_tensor *weights)
{
    double sum = 0.0;
    size_t i;
    for (i = 0; i < y->size; i++) sum += (double)y->data[i] * weights->data[i];
    return sum;
}

/* The layer's L at its current input and parameters. */
static double gradcheck_layer_loss(rn_layer *layer, const rn_tensor *x, const rn_tensor *weights)
{
    rn_tensor y;
    double loss;
    memset(&y, 0, sizeof y);
    if (rn_layer_forward(layer, x, &y, RN_TRAIN) != RN_OK) return NAN;
    loss = gradcheck_weighted_sum(&y, weights);
    rn_tensor_free(&y);
    return loss;
}

/* Compares analytic with central differences of loss() over values[0..count). */
typedef double (*gradcheck_loss_fn)(void *context);

static double gradcheck_vector(float *values, const float *analytic, size_t count,
                               gradcheck_loss_fn loss, void *context)
{
    double difference = 0.0, numeric_norm = 0.0, analytic_norm = 0.0, scale;
    size_t i;
    for (i = 0; i < count; i++) {
        float saved = values[i];
        double plus, minus, numeric;
        values[i] = saved + GRADCHECK_STEP;
        plus = loss(context);
        values[i] = saved - GRADCHECK_STEP;
        minus = loss(context);
        values[i] = saved;
        /* the step actually taken, after float rounding of saved +- h */
        numeric = (plus - minus) / ((double)(saved + GRADCHECK_STEP) - (double)(saved - GRADCHECK_STEP));
        difference += (numeric - analytic[i]) * (numeric - analytic[i]);
        numeric_norm += numeric * numeric;
        analytic_norm += (double)analytic[i] * analytic[i];
    }
    scale = sqrt(numeric_norm > analytic_norm ? numeric_norm : analytic_norm);
    return scale > 1e-12 ? sqrt(difference) / scale : sqrt(difference);
}

typedef struct gradcheck_layer_context {
    rn_layer *layer;
    const rn_tensor *x;
    const rn_tensor *weights;
} gradcheck_layer_context;

static double gradcheck_layer_loss_fn(void *context)
{
    gradcheck_layer_context *c = (gradcheck_layer_context *)context;
    return gradcheck_layer_loss(c->layer, c->x, c->weights);
}

/* Worst relative gradient error of the layer at x, over the input gradient
   and every parameter's gradient (frozen ones included: their gradients are
   still computed). Returns a negative value when a call fails. */
static double gradcheck_layer(rn_layer *layer, rn_tensor *x, uint64_t seed)
{
    rn_tensor y, weights, dx;
    gradcheck_layer_context context;
    rn_rng rng;
    double worst;
    size_t i;
    int k;
    memset(&y, 0, sizeof y);
    memset(&weights, 0, sizeof weights);
    memset(&dx, 0, sizeof dx);
    if (rn_layer_forward(layer, x, &y, RN_TRAIN) != RN_OK) return -1.0;
    rn_tensor_new(&weights, y.ndim, y.shape);
    rn_rng_seed(&rng, seed, 99);
    for (i = 0; i < weights.size; i++) weights.data[i] = rn_rng_normal(&rng);
    for (k = 0; k < layer->n_params; k++) rn_tensor_fill(&layer->params[k].grad, 0.0f);
    if (rn_layer_backward(layer, x, &y, &weights, &dx) != RN_OK) worst = -1.0;
    else {
        context.layer = layer;
        context.x = x;
        context.weights = &weights;
        worst = gradcheck_vector(x->data, dx.data, x->size, gradcheck_layer_loss_fn, &context);
        for (k = 0; k < layer->n_params; k++) {
            double error = gradcheck_vector(layer->params[k].value.data,
                                            layer->params[k].grad.data,
                                            layer->params[k].value.size,
                                            gradcheck_layer_loss_fn, &context);
            if (error > worst) worst = error;
        }
    }
    rn_tensor_free(&y);
    rn_tensor_free(&weights);
    rn_tensor_free(&dx);
    return worst;
}

/* Fills x with distinct values 0.01 apart (..., -0.015, -0.005, 0.005, ...)
   in random order, so that ReLU kinks and max-pool ties are several
   finite-difference steps away from every value. */
static void gradcheck_fill_away_from_kinks(rn_tensor *x, uint64_t seed)
{
    rn_rng rng;
    size_t i;
    rn_rng_seed(&rng, seed, 7);
    for (i = 0; i < x->size; i++) {
        x->data[i] = (float)(((double)i - (double)(x->size / 2)) * 0.01 + 0.005);
    }
    for (i = x->size; i > 1; i--) { /* Fisher-Yates */
        size_t j = rn_rng_below(&rng, (uint32_t)i);
        float t = x->data[i - 1];
        x->data[i - 1] = x->data[j];
        x->data[j] = t;
    }
}

#endif
