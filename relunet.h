/* relunet.h - train small neural networks with learnable activation functions.
   A single-file C99 library: libc + libm, nothing else.

   Do this:
       #define RELUNET_IMPLEMENTATION
   before you include this file in *one* C file to create the implementation.
   Every other file includes it without the define.

QUICK START
   Build a small CNN, train it for one step, read the loss:

       #define RELUNET_IMPLEMENTATION
       #include "relunet.h"

       rn_net *net = rn_net_new(3, (int[]){1, 28, 28});   // one sample: C, H, W
       rn_net_add_conv2d(net, 8, 3, 1, 1);                 // 8 channels, 3x3, stride 1, pad 1
       rn_net_add_activation(net, RN_ACT_RELU);
       rn_net_add_maxpool2d(net, 2, 2);
       rn_net_add_flatten(net);
       rn_net_add_linear(net, 10);
       rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, 42);

       rn_optim *opt = rn_optim_new(net, &(rn_optim_desc){ .kind = RN_SGD, .lr = 0.01f });
       rn_net_forward(net, &images, RN_TRAIN);              // images: N x 1 x 28 x 28
       rn_net_zero_grad(net);
       float loss;
       rn_loss_cross_entropy(rn_net_output(net), labels, &loss, rn_net_output_grad(net));
       rn_net_backward(net);
       rn_optim_step(opt);

   The README has the complete program; a test compiles and runs it.

CONFIGURATION (define before including)
   RELUNET_STATIC         give every function static linkage (private copy per file)
   RN_MALLOC(size)        allocator; define RN_MALLOC and RN_FREE together
   RN_FREE(pointer)
   RN_ASSERT(condition)   internal invariant checks (default: assert)

ERRORS
   Functions that can fail return an int status: RN_OK (0) or an RN_ERR_* code.
   rn_status_string(status) names the code; rn_last_error() says what was wrong
   (which function, which shape or value). Functions that return a pointer
   return NULL on failure and set the same message. Bad input never aborts.
   The message buffer is global: read it from the thread that got the error.

API GROUPS
   status        rn_status_string rn_last_error rn_set_error
   random        rn_rng_seed rn_rng_u32 rn_rng_below rn_rng_uniform rn_rng_normal
   tensors       rn_tensor_new rn_tensor_resize rn_tensor_view rn_tensor_slice
                 rn_tensor_free rn_tensor_fill rn_tensor_copy rn_tensor_reshape
                 rn_tensor_shape_string
   layers        rn_net_add_conv2d rn_net_add_linear rn_net_add_maxpool2d
                 rn_net_add_avgpool2d rn_net_add_flatten rn_net_add_activation(_ex)
                 rn_net_add_batchnorm(_ex) rn_net_add_dropout
                 rn_layer_forward rn_layer_backward rn_layer_init
   activations   rn_act_kind_name rn_act_param_count rn_act_param_name
                 rn_net_act_values rn_act_recorder_add rn_act_recorder_free
   losses        rn_loss_cross_entropy rn_loss_bce_logits rn_loss_mse
   penalties     rn_net_penalty (L1, squared L2, L2 norm) on a parameter selection
   network       rn_net_new rn_net_free rn_net_init rn_net_forward rn_net_backward
                 rn_net_zero_grad rn_net_output rn_net_output_grad rn_net_input_grad
                 rn_net_summary rn_net_param_count rn_net_param rn_net_select
                 rn_net_set_frozen rn_net_set_range
   optimizers    rn_optim_new rn_optim_new_params rn_optim_set_group rn_optim_step
                 rn_optim_scale_lr rn_optim_free rn_lr_step_decay
   metrics       rn_accuracy rn_confusion_add rn_macro_precision rn_macro_recall
                 rn_topk_error
   RAI training  rn_rai_new rn_rai_step rn_rai_loss rn_rai_resync rn_rai_aux
                 rn_rai_optim rn_rai_free

PARAMETERS AND SELECTIONS
   Every learnable tensor is an rn_param with a name ("conv1.weight",
   "act2.alpha"), a kind (weight, bias, activation, norm; auxiliary for RAI's
   per-example variables) and the index of its layer. Batch norm's scale and
   shift are of kind RN_PARAM_NORM, so that RN_PARAMS_OF_KIND(RN_PARAM_WEIGHT)
   means the conv and linear weights alone.
   Penalties, optimizer groups, freezing and projection take a selection:

       RN_PARAMS_ALL                    every parameter
       RN_PARAMS_OF_KIND(RN_PARAM_BIAS) one kind
       RN_PARAMS_OF_LAYER(3)            one layer
       RN_PARAMS_NAMED("alpha")         by short name (the part after the dot)

   so the ReLU_alpha studies' "L1 on every alpha" is
       loss += rn_net_penalty(net, RN_PARAMS_NAMED("alpha"), RN_PENALTY_L1, lambda);
   and He et al.'s "no weight decay on PReLU slopes" is
       rn_optim_set_group(opt, RN_PARAMS_OF_KIND(RN_PARAM_ACTIVATION), lr, 0.0f);
   PyTorch decays every parameter by default, batch norm's included; "decay
   on weights only" is a zero default plus
       rn_optim_set_group(opt, RN_PARAMS_OF_KIND(RN_PARAM_WEIGHT), lr, 5e-4f);

TRAINING AND EVALUATION
   The mode given to rn_net_forward matters to two layers. Batch norm
   normalises with the batch's statistics in RN_TRAIN and updates its running
   mean and variance; in RN_EVAL it uses the running ones. Dropout zeroes
   each value with probability p in RN_TRAIN and scales the kept ones by
   1 / (1 - p) (inverted dropout), and passes everything through in RN_EVAL.
   Its random stream is derived from the seed of rn_net_init, so the same
   seed trains the same network twice. Backward follows the mode of the last
   forward pass.

LEARNING-RATE SCHEDULES
   rn_optim_scale_lr multiplies every learning rate; schedules say by what.
   A step decay dividing by 10 at epochs 70 and 90 (counted from 0) is
       for (epoch = 0; epoch < epochs; epoch++) {
           rn_optim_scale_lr(opt, rn_lr_step_decay(epoch, (int[]){70, 90}, 2, 0.1f));
           ... train one epoch ...
       }

ACTIVATION KINDS
   rn_net_add_activation(net, kind) adds one with the defaults below;
   rn_net_add_activation_ex(net, &desc) also sets sharing (one value per
   layer or per channel), initial values (desc.init, in the order listed),
   freezing and the two constants desc.slope and desc.unnormalized. Learned
   parameters are rn_params of kind RN_PARAM_ACTIVATION named
   "act<k>.<name>"; [brackets] give their initial values.

   RN_ACT_IDENTITY      x
   RN_ACT_RELU          max(x, 0)
   RN_ACT_SIGMOID       1 / (1 + exp(-x))
   RN_ACT_TANH          tanh(x)
   RN_ACT_LRELU         x if x >= 0, else s x. s = desc.slope, 0.01 when 0
                        (the PReLU study also uses 0.1). s is a constant of
                        the layer, not a parameter: no optimizer, penalty or
                        selection can reach it. Maas et al. 2013, "Rectifier
                        nonlinearities improve neural network acoustic models".
   RN_ACT_PRELU         x if x > 0, else slope x.            slope [0.25]
                        He et al. 2015, "Delving deep into rectifiers".
   RN_ACT_RELU_ALPHA    ReLU(x) - (1 - alpha) ReLU(-x), i.e. x if x >= 0,
                        else (1 - alpha) x: alpha = 1 is ReLU, alpha = 0
                        the identity.                         alpha [1]
                        The studies "Advanced Topics in ML, Challenge 2"
                        (lambda sweep) and "On the Linearization of
                        Convolutional Layers for FashionMNIST": PReLU with
                        slope 1 - alpha, so that a penalty on alpha pulls
                        towards the identity. The default starts as ReLU;
                        the studies set their own start with desc.init, or
                        draw values after rn_net_init (which resets
                        activation parameters to their initial values).
   RN_ACT_ASIGMOID      b sigmoid(a x + c) + d    a, b, c, d [1, 1, 0, 0]
   RN_ACT_ATANH         b tanh(a x + c) + d       a, b, c, d [1, 1, 0, 0]
   RN_ACT_ARELU         max(a x + c, b x + d)     a, b, c, d [1, 1, 0, 0]
                        AReLU starts as the identity; at a tie the first
                        line gets the gradient, as in TensorFlow. Hu et al.
                        2022, "Adaptively customizing activation functions
                        for various layers" (IEEE TNNLS).
   RN_ACT_MIX_ADAPTIVE  X ATanh(x) + Y ASigmoid(x) + Z AReLU(x) ("method 1")
                        mix_alpha, mix_beta, mix_gamma [1, 1, 1], a, b, c, d
                        [1, 1, 0, 0]. The three parts share one a, b, c, d,
                        as the adaptive-mixtures example uses them, not a
                        set each: 7 parameters rather than 15.
   RN_ACT_MIX_FIXED     X tanh(x) + Y sigmoid(x) + Z ReLU(x) ("method 2")
                        mix_alpha, mix_beta, mix_gamma [1, 1, 1]
                        Both mixtures: the study "Customization of
                        Activation Layer for Classification" (after Hu et
                        al. 2022), with X = mix_alpha / (mix_alpha +
                        mix_beta + mix_gamma), Y and Z likewise. The weights
                        are not called alpha, beta, gamma so that
                        RN_PARAMS_NAMED("alpha") selects ReLU_alpha's alone.
                        Their sum must stay away from 0 (give them a range
                        if training drives it there). desc.unnormalized = 1
                        makes X, Y, Z the weights themselves: the study's
                        retraining "with X, Y, Z fixed at 1 each" is that
                        plus freezing; "fixed at 1/3" is the default
                        normalisation with the three weights frozen equal:
                            rn_net_set_frozen(net, RN_PARAMS_NAMED("mix_alpha"), 1);
                        and the same for "mix_beta" and "mix_gamma".

   No parameter has a projection range unless you set one. ReLU_alpha's
   alpha in particular is left free: the linearization study does not clamp
   it (and finds alpha = 1 an equilibrium), the lambda sweep keeps it in
   [0, 1] after every optimizer step with
       rn_net_set_range(net, RN_PARAMS_NAMED("alpha"), 0.0f, 1.0f);

   For reports, rn_net_act_values lists every learned value with its layer,
   name and channel; for trajectories (alpha per iteration),
   rn_act_recorder_add appends a snapshot of all of them to a growing
   buffer, in the same order.

LICENSE
   MIT. See the end of the file.
*/

#ifndef RELUNET_H_INCLUDED
#define RELUNET_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ===== 1. configuration =================================================== */

#ifdef RELUNET_STATIC
#define RN_API static
#else
#define RN_API extern
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ===== 2. status codes and error messages ================================= */

enum {
    RN_OK = 0,
    RN_ERR_ARGUMENT,    /* a NULL pointer, an out-of-range value, a zero size */
    RN_ERR_SHAPE,       /* tensor shapes that do not fit together */
    RN_ERR_MEMORY,      /* an allocation failed */
    RN_ERR_IO,          /* a file could not be opened, read or written */
    RN_ERR_FORMAT,      /* a file's contents are malformed */
    RN_ERR_NUMERIC,     /* NaN or infinity where a finite number is needed */
    RN_ERR_UNSUPPORTED  /* valid, but not available in this build or on this CPU */
};

RN_API const char *rn_status_string(int status);
RN_API const char *rn_last_error(void);
/* Records a printf-style message for rn_last_error() and returns status, so
   that failing code can say `return rn_set_error(RN_ERR_SHAPE, "...", ...)`. */
RN_API int rn_set_error(int status, const char *format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ===== 3. random numbers ================================================== */

/* PCG32 (O'Neill 2014): 64-bit state, 32-bit output. Integer-only, so a seed
   gives the same stream on every platform and compiler. */
typedef struct rn_rng {
    uint64_t state;
    uint64_t increment;
} rn_rng;

RN_API void rn_rng_seed(rn_rng *rng, uint64_t seed, uint64_t stream);
RN_API uint32_t rn_rng_u32(rn_rng *rng);
RN_API uint32_t rn_rng_below(rn_rng *rng, uint32_t bound);  /* uniform in [0, bound) */
RN_API float rn_rng_uniform(rn_rng *rng);                   /* uniform in [0, 1) */
RN_API float rn_rng_normal(rn_rng *rng);                    /* mean 0, deviation 1 */

/* ===== 4. tensors ========================================================= */

#define RN_MAX_DIMS 4
#define RN_MAX_DIM_SIZE (1 << 28) /* larger dimensions are rejected as hostile */

/* float32, row-major, NCHW for images. A tensor either owns its storage
   (capacity > 0, 64-byte aligned) or is a view of someone else's (capacity 0).
   A zeroed rn_tensor is a valid empty tensor. */
typedef struct rn_tensor {
    float *data;
    int ndim;
    int shape[RN_MAX_DIMS];
    size_t size;     /* number of elements */
    size_t capacity; /* elements allocated; 0 for a view */
} rn_tensor;

/* Allocates a zero-filled tensor. Every dimension must be >= 1. */
RN_API int rn_tensor_new(rn_tensor *tensor, int ndim, const int *shape);
/* Gives the tensor a new shape, keeping its storage when it is large enough;
   contents are unspecified afterwards. Works on empty and owning tensors. */
RN_API int rn_tensor_resize(rn_tensor *tensor, int ndim, const int *shape);
/* A view of caller-owned memory. The shape is not validated: use for memory
   you just sized yourself. */
RN_API rn_tensor rn_tensor_view(float *data, int ndim, const int *shape);
/* A view of items [first, first + count) along the first dimension; an empty
   tensor (data NULL, which every function rejects) when the range is bad. */
RN_API rn_tensor rn_tensor_slice(const rn_tensor *tensor, int first, int count);
RN_API void rn_tensor_free(rn_tensor *tensor);
RN_API void rn_tensor_fill(rn_tensor *tensor, float value);
/* Copies values; both tensors must have the same number of elements. */
RN_API int rn_tensor_copy(rn_tensor *destination, const rn_tensor *source);
/* Same elements, new shape; the element count must not change. */
RN_API int rn_tensor_reshape(rn_tensor *tensor, int ndim, const int *shape);
/* Writes "[64, 1, 28, 28]" into buffer. */
RN_API void rn_tensor_shape_string(const rn_tensor *tensor, char *buffer, size_t buffer_size);

/* ===== 5. parameters and selections ======================================= */

typedef enum rn_param_kind {
    RN_PARAM_WEIGHT,
    RN_PARAM_BIAS,
    RN_PARAM_ACTIVATION,
    RN_PARAM_NORM,      /* batch norm's scale and shift */
    RN_PARAM_AUXILIARY  /* RAI's per-example variables: training state, in no network */
} rn_param_kind;

typedef struct rn_param {
    rn_tensor value;
    rn_tensor grad;
    char name[32];      /* "conv1.weight": layer name, dot, short name */
    rn_param_kind kind;
    int layer;          /* index of the owning layer in its network */
    int frozen;         /* optimizers leave frozen parameters alone */
    float min, max;     /* projection range applied after every optimizer step */
} rn_param;

/* Which parameters an operation applies to: kinds is a bit mask of
   (1u << kind), 0 for all kinds; layer is an index, or -1 for all layers;
   name is a short name ("alpha"), or NULL for all names. */
typedef struct rn_param_filter {
    unsigned kinds;
    int layer;
    const char *name;
} rn_param_filter;

#define RN_PARAMS_ALL ((rn_param_filter){0u, -1, NULL})
#define RN_PARAMS_OF_KIND(kind) ((rn_param_filter){1u << (kind), -1, NULL})
#define RN_PARAMS_OF_LAYER(index) ((rn_param_filter){0u, (index), NULL})
#define RN_PARAMS_NAMED(short_name) ((rn_param_filter){0u, -1, (short_name)})

RN_API int rn_param_matches(const rn_param *param, rn_param_filter filter);

/* ===== 6. activations ===================================================== */

/* The formulas, parameters, defaults and papers of every kind are listed
   under ACTIVATION KINDS at the top of this file. */
typedef enum rn_act_kind {
    RN_ACT_IDENTITY,
    RN_ACT_RELU,
    RN_ACT_SIGMOID,
    RN_ACT_TANH,
    RN_ACT_LRELU,
    RN_ACT_PRELU,
    RN_ACT_RELU_ALPHA,
    RN_ACT_ASIGMOID,
    RN_ACT_ATANH,
    RN_ACT_ARELU,
    RN_ACT_MIX_ADAPTIVE, /* method 1 */
    RN_ACT_MIX_FIXED,    /* method 2 */
    RN_ACT_KIND_COUNT
} rn_act_kind;

#define RN_ACT_MAX_PARAMS 8
#define RN_ACT_LRELU_DEFAULT_SLOPE 0.01f

typedef enum rn_share {
    RN_SHARE_LAYER,   /* one value of each parameter for the whole layer */
    RN_SHARE_CHANNEL  /* one value per channel (dimension 1 of the input) */
} rn_share;

/* Everything that configures an activation layer. A zeroed desc with only
   .kind set gives the kind's defaults. */
typedef struct rn_act_desc {
    rn_act_kind kind;
    rn_share share;
    const float *init;  /* initial parameter values in the kind's order, or NULL */
    int frozen;         /* 1: the parameters are not trained */
    float slope;        /* RN_ACT_LRELU's fixed negative slope; 0 means 0.01 */
    int unnormalized;   /* mixtures: 1 uses mix_alpha, mix_beta, mix_gamma as X, Y, Z
                           themselves instead of dividing them by their sum */
} rn_act_desc;

RN_API const char *rn_act_kind_name(rn_act_kind kind);
RN_API int rn_act_param_count(rn_act_kind kind);
/* Short name of the kind's parameter number index ("alpha"), or NULL. */
RN_API const char *rn_act_param_name(rn_act_kind kind, int index);

/* ===== 7. layers ========================================================== */

typedef enum rn_layer_type {
    RN_LAYER_CONV2D,
    RN_LAYER_LINEAR,
    RN_LAYER_MAXPOOL2D,
    RN_LAYER_AVGPOOL2D,
    RN_LAYER_FLATTEN,
    RN_LAYER_ACTIVATION,
    RN_LAYER_BATCHNORM,
    RN_LAYER_DROPOUT
} rn_layer_type;

typedef enum rn_mode { RN_EVAL = 0, RN_TRAIN = 1 } rn_mode;

typedef enum rn_init {
    RN_INIT_TORCH_DEFAULT, /* kaiming-uniform a=sqrt(5), bias U(+-1/sqrt(fan_in)) */
    RN_INIT_HE_NORMAL,     /* N(0, gain^2/fan_in), gain = sqrt(2/(1+slope^2)), bias 0 */
    RN_INIT_HE_UNIFORM,    /* U(+-gain*sqrt(3/fan_in)), bias 0 */
    RN_INIT_XAVIER_NORMAL, /* N(0, 2/(fan_in+fan_out)), bias 0 */
    RN_INIT_XAVIER_UNIFORM /* U(+-sqrt(6/(fan_in+fan_out))), bias 0 */
} rn_init;

#define RN_LAYER_MAX_PARAMS RN_ACT_MAX_PARAMS

/* One layer of a sequential network. Shapes are of one sample (no batch
   dimension): (C, H, W) for images, (features) for vectors. */
typedef struct rn_layer {
    rn_layer_type type;
    int index;                /* position in the network */
    char name[16];            /* "conv1", "act2": type and 1-based count */
    int in_ndim, in_shape[3];
    int out_ndim, out_shape[3];
    int units;                /* conv2d: output channels; linear: output features */
    int kernel, stride, padding;
    int has_bias;
    rn_act_desc act;          /* activation layers only */
    float act_init[RN_ACT_MAX_PARAMS];
    int n_params;
    rn_param params[RN_LAYER_MAX_PARAMS];
    rn_mode mode;             /* of the last forward pass; backward follows it */
    /* batch norm: one value per channel (dimension 0 of a sample) */
    float eps, momentum;
    rn_tensor running_mean, running_var;  /* used in RN_EVAL */
    rn_tensor used_mean, used_inv_std;    /* what the last forward normalised with */
    /* dropout */
    float drop_rate;
    rn_rng rng;
    rn_tensor mask;           /* 0 or 1 / (1 - drop_rate) per value of the last batch */
} rn_layer;

/* Forward of one layer on a batch: x is N x in_shape, y is resized to
   N x out_shape. Backward adds the parameter gradients to params[i].grad and,
   when dx is not NULL, writes the gradient with respect to x into dx. */
RN_API int rn_layer_forward(rn_layer *layer, const rn_tensor *x, rn_tensor *y, rn_mode mode);
RN_API int rn_layer_backward(rn_layer *layer, const rn_tensor *x, const rn_tensor *y,
                             const rn_tensor *dy, rn_tensor *dx);
/* Draws the layer's weights and biases; resets activation parameters to
   their initial values, batch norm to scale 1, shift 0 and running mean 0,
   variance 1, and derives dropout's random stream from rng (without drawing
   from it, so dropout does not change any weight). slope is the negative
   slope the He gain assumes. */
RN_API int rn_layer_init(rn_layer *layer, rn_init init, float slope, rn_rng *rng);

/* ===== 8. network ========================================================= */

typedef struct rn_net {
    int n_layers;
    int capacity;
    rn_layer **layers;
    int in_ndim, in_shape[3];
    rn_tensor input;       /* a view of the last forward's input */
    rn_tensor *outputs;    /* outputs[i]: output of layer i */
    rn_tensor *grads;      /* grads[i]: loss gradient w.r.t. the input of layer i;
                              grads[n_layers]: w.r.t. the network's output */
    int want_input_grad;   /* 1: backward also fills grads[0] */
} rn_net;

/* A network whose samples have the given shape: (C, H, W) or (features). */
RN_API rn_net *rn_net_new(int sample_ndim, const int *sample_shape);
RN_API void rn_net_free(rn_net *net);

/* Each add checks that the layer fits the previous output and names its
   parameters after the layer ("conv1.weight"). On error the network is
   unchanged. New layers start with RN_INIT_TORCH_DEFAULT from a fixed seed. */
RN_API int rn_net_add_conv2d(rn_net *net, int out_channels, int kernel, int stride, int padding);
RN_API int rn_net_add_linear(rn_net *net, int out_features);
RN_API int rn_net_add_maxpool2d(rn_net *net, int kernel, int stride);
RN_API int rn_net_add_avgpool2d(rn_net *net, int kernel, int stride);
RN_API int rn_net_add_flatten(rn_net *net);
RN_API int rn_net_add_activation(rn_net *net, rn_act_kind kind);
RN_API int rn_net_add_activation_ex(rn_net *net, const rn_act_desc *desc);
/* Batch normalisation (Ioffe and Szegedy 2015) per channel of a (C, H, W)
   input, per feature of a vector: y = scale (x - mean) / sqrt(var + eps) +
   shift, with parameters "scale" (1) and "shift" (0) of kind RN_PARAM_NORM.
   Training updates running = (1 - momentum) running + momentum batch, with
   the unbiased batch variance, as PyTorch does; its defaults are eps 1e-5
   and momentum 0.1. Training needs at least two values per channel. */
RN_API int rn_net_add_batchnorm(rn_net *net);
RN_API int rn_net_add_batchnorm_ex(rn_net *net, float eps, float momentum);
/* Inverted dropout with drop probability p in [0, 1); see TRAINING AND EVALUATION. */
RN_API int rn_net_add_dropout(rn_net *net, float p);
/* Drops the bias of the most recent conv2d or linear layer. */
RN_API int rn_net_remove_bias(rn_net *net);

/* Initialises every layer; the same seed gives the same weights everywhere. */
RN_API int rn_net_init(rn_net *net, rn_init init, float slope, uint64_t seed);

/* x must be N x sample shape and stay alive until backward. */
RN_API int rn_net_forward(rn_net *net, const rn_tensor *x, rn_mode mode);
RN_API rn_tensor *rn_net_output(rn_net *net);
/* Where the loss writes its gradient for rn_net_backward to start from. */
RN_API rn_tensor *rn_net_output_grad(rn_net *net);
/* Back-propagates rn_net_output_grad(), adding to every parameter gradient. */
RN_API int rn_net_backward(rn_net *net);
/* The gradient with respect to the last input; needs want_input_grad = 1. */
RN_API rn_tensor *rn_net_input_grad(rn_net *net);
RN_API void rn_net_zero_grad(rn_net *net);
/* A table like torchinfo's: layer, output shape, parameters, totals. */
RN_API void rn_net_summary(const rn_net *net, FILE *out);

RN_API int rn_net_param_count(const rn_net *net);
RN_API rn_param *rn_net_param(rn_net *net, int index);
/* Stores up to max matching parameters in out; returns how many match. */
RN_API int rn_net_select(rn_net *net, rn_param_filter filter, rn_param **out, int max);
RN_API void rn_net_set_frozen(rn_net *net, rn_param_filter filter, int frozen);
RN_API void rn_net_set_range(rn_net *net, rn_param_filter filter, float min, float max);

/* One value of one activation parameter, for reports. The strings live as
   long as the network. */
typedef struct rn_act_value {
    int layer;              /* index of the layer in the network */
    const char *layer_name; /* "act2" */
    const char *name;       /* the parameter's short name: "alpha" */
    int channel;            /* 0 when the layer shares one value */
    float value;
} rn_act_value;

/* Stores up to max values of every activation parameter in out, layer by
   layer, parameter by parameter, channel by channel; returns how many
   there are. */
RN_API int rn_net_act_values(rn_net *net, rn_act_value *out, int max);

/* Activation parameters over training: each rn_act_recorder_add appends
   one snapshot of every value in rn_net_act_values order, so value i of
   snapshot s is values[s * count + i]. A zeroed recorder is empty. */
typedef struct rn_act_recorder {
    int count;       /* values per snapshot */
    int snapshots;
    float *values;
    size_t capacity; /* floats allocated */
} rn_act_recorder;

RN_API int rn_act_recorder_add(rn_act_recorder *recorder, rn_net *net);
RN_API void rn_act_recorder_free(rn_act_recorder *recorder);

/* ===== 9. losses and penalties ============================================ */

/* Each computes the mean loss over the batch and, when grad is not NULL,
   writes d loss / d input into it (same shape as the input). NaN or infinity
   in the input is an RN_ERR_NUMERIC error. */
RN_API int rn_loss_cross_entropy(const rn_tensor *logits, const int *labels, float *loss,
                                 rn_tensor *grad);
RN_API int rn_loss_bce_logits(const rn_tensor *logits, const float *targets, float *loss,
                              rn_tensor *grad);
RN_API int rn_loss_mse(const rn_tensor *prediction, const rn_tensor *target, float *loss,
                       rn_tensor *grad);

typedef enum rn_penalty_kind {
    RN_PENALTY_L1,      /* lambda * sum |p|; at 0 the subgradient nearest
                           to cancelling the gradient so far */
    RN_PENALTY_L2,      /* lambda * sum p^2 */
    RN_PENALTY_L2_NORM  /* lambda * sqrt(sum p^2), the unsquared norm */
} rn_penalty_kind;

/* Adds the penalty's gradient to the selected parameters and returns its
   value. Call it after rn_net_backward: the L1 penalty's choice at 0
   depends on the data gradient. */
RN_API double rn_net_penalty(rn_net *net, rn_param_filter filter, rn_penalty_kind kind,
                             float lambda);

/* ===== 10. optimizers ===================================================== */

typedef enum rn_optim_kind { RN_SGD, RN_ADAM, RN_ADAMW, RN_RPROP } rn_optim_kind;

/* PyTorch's formulas and defaults. Zero fields take the default: lr 0.01 for
   SGD and Rprop and 0.001 for Adam/AdamW, beta1 0.9, beta2 0.999, eps 1e-8,
   Rprop's etas 0.5 and 1.2 and step sizes [1e-6, 50]; AdamW's weight_decay is
   taken as given (PyTorch's 0.01 is not applied for you). Rprop, like
   PyTorch's, has no weight decay.
   Rprop (Riedmiller and Braun 1993) keeps a step size per element, starting
   at lr: it grows by eta_plus while the gradient keeps its sign and shrinks
   by eta_minus when the sign flips, and the flipped gradient then counts as 0
   (no move, and the next step neither grows nor shrinks). The element moves
   by -sign(gradient) * step; only the sign of the gradient matters. */
typedef struct rn_optim_desc {
    rn_optim_kind kind;
    float lr;
    float momentum;
    float dampening;
    int nesterov;
    float weight_decay;
    float beta1, beta2, eps;
    float eta_minus, eta_plus;  /* Rprop */
    float step_min, step_max;   /* Rprop */
} rn_optim_desc;

typedef struct rn_optim rn_optim;

/* Optimises the parameters the network has now. */
RN_API rn_optim *rn_optim_new(rn_net *net, const rn_optim_desc *desc);
/* Optimises any count parameters: from several networks, or ones no network
   owns (RAI's auxiliary variables). The parameters must outlive it. */
RN_API rn_optim *rn_optim_new_params(rn_param *const *params, int count,
                                     const rn_optim_desc *desc);
RN_API void rn_optim_free(rn_optim *opt);
/* Gives the selected parameters their own learning rate and weight decay. */
RN_API int rn_optim_set_group(rn_optim *opt, rn_param_filter filter, float lr,
                              float weight_decay);
/* Multiplies every learning rate by factor: the hook for schedules. */
RN_API void rn_optim_scale_lr(rn_optim *opt, float factor);
/* Step decay: the factor that takes the learning rate of epoch - 1 to that of
   epoch, gamma for every milestone equal to epoch and 1 otherwise. Scaling
   by it at the start of every epoch (epochs and milestones counted alike,
   e.g. from 0) gives PyTorch's MultiStepLR. */
RN_API float rn_lr_step_decay(int epoch, const int *milestones, int count, float gamma);
/* Updates every unfrozen parameter, then clamps each to its range. A
   gradient that is not finite is an RN_ERR_NUMERIC error and nothing moves. */
RN_API int rn_optim_step(rn_optim *opt);

/* ===== 11. metrics ======================================================== */

/* logits is N x K; the prediction is the first index of the largest logit. */
RN_API double rn_accuracy(const rn_tensor *logits, const int *labels);
/* Adds predictions to matrix[true_class * n_classes + predicted_class]. */
RN_API int rn_confusion_add(int *matrix, int n_classes, const rn_tensor *logits,
                            const int *labels);
/* Means over classes; a class never predicted (or absent) counts as 0. */
RN_API double rn_macro_precision(const int *matrix, int n_classes);
RN_API double rn_macro_recall(const int *matrix, int n_classes);
/* Share of samples whose label is not among the k largest logits. */
RN_API double rn_topk_error(const rn_tensor *logits, const int *labels, int k);

/* ===== 12. relaxed activation identity (RAI) training ===================== */

/* RAI (Mertens Velasquez, "An Empirical Study of Relaxed Activation
   Identity's Effects on First-Order Optimization") trains a sequential
   network of linear and activation layers on a full batch of n examples
   without back-propagating through its whole depth. Each linear layer
   t = 1..L gets an auxiliary variable Z_t (n x d_t) that stands for its
   output, the pre-activation, on every example. Layer t predicts
       Zhat_t = W_t g(Z_{t-1}) + b_t,    Z_0 = x,
   where g is the activation layers between linear layers t-1 and t (none
   before the first), and the loss is
       L = L_y + sum_t w_t L_h^t,    L_h^t = mean((Z_t - Zhat_t)^2),
   the mean taken over all n * d_t elements. L_y scores Z_L as logits:
   binary cross-entropy of sigmoid(Z_L) against targets, or softmax
   cross-entropy against class labels. So Z_L is both the output (through
   L_y) and the target of the last layer's prediction (through L_h^L); W_t and
   b_t learn only through L_h^t; Z_t gets gradient as the target of L_h^t and
   as the input of layer t + 1. The hidden weights w_t default to 1.
   Z starts from one ordinary forward pass, so every L_h^t is 0 at step 0,
   and one optimizer updates the network's parameters and every Z together.
   Z is training state only: inference is rn_net_forward, which chains the
   layers as usual. Each Z_t is an rn_param of kind RN_PARAM_AUXILIARY named
   after its layer ("linear3.z"), so
       rn_optim_set_group(rn_rai_optim(rai), RN_PARAMS_OF_KIND(RN_PARAM_AUXILIARY), lr, 0)
   gives the auxiliaries their own learning rate. */
typedef struct rn_rai_desc {
    rn_optim_desc optim;          /* the one optimizer over parameters and Z */
    const float *hidden_weights;  /* w_t, one per linear layer, or NULL for all 1 */
    int resync_every;             /* K > 0: Z from a fresh forward pass every K steps
                                     (the optimizer's state is kept); 0: never */
} rn_rai_desc;

typedef struct rn_rai_losses {
    double total;   /* output + hidden */
    double output;  /* L_y */
    double hidden;  /* sum_t w_t L_h^t */
} rn_rai_losses;

typedef struct rn_rai rn_rai;

/* net: linear and activation layers, the last one linear (its output is
   Z_L, the logits); it must outlive the rn_rai and keep its layers. x is
   n x sample shape. Give exactly one of targets (n x d_L values in [0, 1])
   and labels (n class indices in [0, d_L)). x, targets and labels are
   copied. A NULL desc means a zeroed one. */
RN_API rn_rai *rn_rai_new(rn_net *net, const rn_tensor *x, const float *targets,
                          const int *labels, const rn_rai_desc *desc);
RN_API void rn_rai_free(rn_rai *rai);
/* The RAI loss at the current parameters and Z. Sets (does not add to) the
   gradient of every network parameter and every Z; overwrites the network's
   cached forward pass. losses may be NULL. */
RN_API int rn_rai_loss(rn_rai *rai, rn_rai_losses *losses);
/* One training step: rn_rai_loss (losses are those before the step), an
   optimizer step, and the re-sync when one is due. */
RN_API int rn_rai_step(rn_rai *rai, rn_rai_losses *losses);
/* Sets every Z_t to linear layer t's output in a forward pass of x. */
RN_API int rn_rai_resync(rn_rai *rai);
/* Z of the index-th linear layer (0-based), or NULL past the last. */
RN_API rn_param *rn_rai_aux(rn_rai *rai, int index);
RN_API rn_optim *rn_rai_optim(rn_rai *rai);

#ifdef __cplusplus
}
#endif

#endif /* RELUNET_H_INCLUDED */

/* ========================================================================== */
/*                              IMPLEMENTATION                                */
/* ========================================================================== */

#if defined(RELUNET_IMPLEMENTATION) && !defined(RELUNET_IMPLEMENTATION_INCLUDED)
#define RELUNET_IMPLEMENTATION_INCLUDED

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ===== 1. configuration =================================================== */

#if defined(RN_MALLOC) != defined(RN_FREE)
#error "define RN_MALLOC and RN_FREE together"
#endif
#ifndef RN_MALLOC
#define RN_MALLOC(size) malloc(size)
#define RN_FREE(pointer) free(pointer)
#endif
#ifndef RN_ASSERT
#include <assert.h>
#define RN_ASSERT(condition) assert(condition)
#endif

#define RN__ALIGNMENT 64

/* Allocations are aligned by hand so that RN_MALLOC can stay a plain
   malloc-like function: over-allocate, align, and keep the original pointer
   just below the aligned block for rn__free_aligned. */
static void *rn__malloc_aligned(size_t bytes)
{
    size_t extra = RN__ALIGNMENT + sizeof(void *);
    unsigned char *raw, *aligned;
    if (bytes > (size_t)-1 - extra) return NULL;
    raw = (unsigned char *)RN_MALLOC(bytes + extra);
    if (raw == NULL) return NULL;
    aligned = raw + extra;
    aligned -= (uintptr_t)aligned % RN__ALIGNMENT;
    memcpy(aligned - sizeof(void *), &raw, sizeof(void *));
    return aligned;
}

static void rn__free_aligned(void *pointer)
{
    void *raw;
    if (pointer == NULL) return;
    memcpy(&raw, (unsigned char *)pointer - sizeof(void *), sizeof(void *));
    RN_FREE(raw);
}

/* Zero-filled array of count elements of size bytes, NULL on overflow. */
static void *rn__calloc(size_t count, size_t size)
{
    size_t bytes;
    void *pointer;
    if (size != 0 && count > (size_t)-1 / size) return NULL;
    bytes = count * size;
    pointer = RN_MALLOC(bytes > 0 ? bytes : 1);
    if (pointer != NULL) memset(pointer, 0, bytes);
    return pointer;
}

/* ===== 2. status codes and error messages ================================= */

static char rn__error_message[512] = "no error";

RN_API const char *rn_status_string(int status)
{
    switch (status) {
    case RN_OK: return "ok";
    case RN_ERR_ARGUMENT: return "invalid argument";
    case RN_ERR_SHAPE: return "shape mismatch";
    case RN_ERR_MEMORY: return "out of memory";
    case RN_ERR_IO: return "input/output error";
    case RN_ERR_FORMAT: return "malformed data";
    case RN_ERR_NUMERIC: return "not a finite number";
    case RN_ERR_UNSUPPORTED: return "not supported";
    default: return "unknown status";
    }
}

RN_API const char *rn_last_error(void) { return rn__error_message; }

RN_API int rn_set_error(int status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(rn__error_message, sizeof rn__error_message, format, args);
    va_end(args);
    return status;
}

/* ===== 3. random numbers ================================================== */

RN_API uint32_t rn_rng_u32(rn_rng *rng)
{
    uint64_t old = rng->state;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rotation = (uint32_t)(old >> 59);
    rng->state = old * 6364136223846793005ULL + rng->increment;
    return (xorshifted >> rotation) | (xorshifted << ((32u - rotation) & 31u));
}

RN_API void rn_rng_seed(rn_rng *rng, uint64_t seed, uint64_t stream)
{
    rng->state = 0;
    rng->increment = (stream << 1) | 1u;
    rn_rng_u32(rng);
    rng->state += seed;
    rn_rng_u32(rng);
}

/* Lemire's rejection method: unbiased for every bound. */
RN_API uint32_t rn_rng_below(rn_rng *rng, uint32_t bound)
{
    uint32_t threshold;
    if (bound == 0) return 0;
    threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t r = rn_rng_u32(rng);
        if (r >= threshold) return r % bound;
    }
}

RN_API float rn_rng_uniform(rn_rng *rng)
{
    return (float)(rn_rng_u32(rng) >> 8) * (1.0f / 16777216.0f);
}

/* Box-Muller from two uniforms in (0, 1]; the second value is dropped so the
   generator carries no hidden state beyond PCG's. */
RN_API float rn_rng_normal(rn_rng *rng)
{
    double u1 = ((double)rn_rng_u32(rng) + 1.0) / 4294967296.0;
    double u2 = (double)rn_rng_u32(rng) / 4294967296.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* ===== 4. tensors ========================================================= */

/* Validates a shape and counts its elements without overflowing. */
static int rn__shape_size(int ndim, const int *shape, size_t *size, const char *caller)
{
    size_t count = 1;
    int i;
    if (shape == NULL || ndim < 1 || ndim > RN_MAX_DIMS)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: %d dimensions (need 1 to %d)", caller, ndim,
                            RN_MAX_DIMS);
    for (i = 0; i < ndim; i++) {
        if (shape[i] < 1 || shape[i] > RN_MAX_DIM_SIZE)
            return rn_set_error(RN_ERR_ARGUMENT, "%s: dimension %d is %d (need 1 to %d)", caller,
                                i, shape[i], RN_MAX_DIM_SIZE);
        if (count > ((size_t)-1 / sizeof(float)) / (size_t)shape[i])
            return rn_set_error(RN_ERR_ARGUMENT, "%s: shape too large for memory", caller);
        count *= (size_t)shape[i];
    }
    *size = count;
    return RN_OK;
}

static void rn__set_shape(rn_tensor *tensor, int ndim, const int *shape, size_t size)
{
    int i;
    tensor->ndim = ndim;
    for (i = 0; i < RN_MAX_DIMS; i++) tensor->shape[i] = i < ndim ? shape[i] : 0;
    tensor->size = size;
}

RN_API int rn_tensor_new(rn_tensor *tensor, int ndim, const int *shape)
{
    int status;
    if (tensor == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_tensor_new: tensor is NULL");
    memset(tensor, 0, sizeof *tensor);
    status = rn_tensor_resize(tensor, ndim, shape);
    if (status == RN_OK) rn_tensor_fill(tensor, 0.0f);
    return status;
}

RN_API int rn_tensor_resize(rn_tensor *tensor, int ndim, const int *shape)
{
    size_t size;
    float *data;
    int status;
    if (tensor == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_tensor_resize: tensor is NULL");
    status = rn__shape_size(ndim, shape, &size, "rn_tensor_resize");
    if (status != RN_OK) return status;
    if (tensor->capacity == 0 && tensor->data != NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_tensor_resize: cannot resize a view");
    if (size > tensor->capacity) {
        data = (float *)rn__malloc_aligned(size * sizeof(float));
        if (data == NULL)
            return rn_set_error(RN_ERR_MEMORY, "rn_tensor_resize: cannot allocate %lu floats",
                                (unsigned long)size);
        rn__free_aligned(tensor->data);
        tensor->data = data;
        tensor->capacity = size;
    }
    rn__set_shape(tensor, ndim, shape, size);
    return RN_OK;
}

RN_API rn_tensor rn_tensor_view(float *data, int ndim, const int *shape)
{
    rn_tensor view;
    size_t size = 1;
    int i;
    memset(&view, 0, sizeof view);
    for (i = 0; i < ndim && i < RN_MAX_DIMS; i++) size *= (size_t)shape[i];
    view.data = data;
    rn__set_shape(&view, ndim < RN_MAX_DIMS ? ndim : RN_MAX_DIMS, shape, size);
    return view;
}

RN_API rn_tensor rn_tensor_slice(const rn_tensor *tensor, int first, int count)
{
    rn_tensor view;
    size_t item;
    if (tensor == NULL || tensor->data == NULL || first < 0 || count < 1 ||
        count > tensor->shape[0] - first) {
        rn_set_error(RN_ERR_ARGUMENT, "rn_tensor_slice: items [%d, %d) of %d", first,
                     first + count, tensor ? tensor->shape[0] : 0);
        memset(&view, 0, sizeof view);
        return view;
    }
    view = *tensor;
    item = tensor->size / (size_t)tensor->shape[0];
    view.data = tensor->data + (size_t)first * item;
    view.shape[0] = count;
    view.size = (size_t)count * item;
    view.capacity = 0;
    return view;
}

RN_API void rn_tensor_free(rn_tensor *tensor)
{
    if (tensor == NULL) return;
    if (tensor->capacity > 0) rn__free_aligned(tensor->data);
    memset(tensor, 0, sizeof *tensor);
}

RN_API void rn_tensor_fill(rn_tensor *tensor, float value)
{
    size_t i;
    for (i = 0; i < tensor->size; i++) tensor->data[i] = value;
}

RN_API int rn_tensor_copy(rn_tensor *destination, const rn_tensor *source)
{
    if (destination == NULL || source == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_tensor_copy: NULL tensor");
    if (destination->size != source->size)
        return rn_set_error(RN_ERR_SHAPE, "rn_tensor_copy: %lu elements into %lu",
                            (unsigned long)source->size, (unsigned long)destination->size);
    if (source->size > 0) memmove(destination->data, source->data, source->size * sizeof(float));
    return RN_OK;
}

RN_API int rn_tensor_reshape(rn_tensor *tensor, int ndim, const int *shape)
{
    size_t size;
    int status;
    if (tensor == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_tensor_reshape: tensor is NULL");
    status = rn__shape_size(ndim, shape, &size, "rn_tensor_reshape");
    if (status != RN_OK) return status;
    if (size != tensor->size)
        return rn_set_error(RN_ERR_SHAPE, "rn_tensor_reshape: %lu elements cannot become %lu",
                            (unsigned long)tensor->size, (unsigned long)size);
    rn__set_shape(tensor, ndim, shape, size);
    return RN_OK;
}

/* Formats dims as "[a, b, c]"; shared by tensors and layer shapes. */
static void rn__dims_string(int ndim, const int *dims, char *buffer, size_t buffer_size)
{
    size_t used = 0;
    int i;
    if (buffer_size == 0) return;
    buffer[0] = '\0';
    for (i = 0; i < ndim && used < buffer_size; i++)
        used += (size_t)snprintf(buffer + used, buffer_size - used, "%s%d", i ? ", " : "[",
                                 dims[i]);
    if (used < buffer_size) snprintf(buffer + used, buffer_size - used, ndim ? "]" : "[]");
}

RN_API void rn_tensor_shape_string(const rn_tensor *tensor, char *buffer, size_t buffer_size)
{
    rn__dims_string(tensor->ndim, tensor->shape, buffer, buffer_size);
}

/* ===== 5. parameters and selections ======================================= */

RN_API int rn_param_matches(const rn_param *param, rn_param_filter filter)
{
    const char *dot;
    if (filter.kinds != 0 && (filter.kinds & (1u << param->kind)) == 0) return 0;
    if (filter.layer >= 0 && filter.layer != param->layer) return 0;
    if (filter.name == NULL) return 1;
    dot = strrchr(param->name, '.');
    return strcmp(dot ? dot + 1 : param->name, filter.name) == 0;
}

/* Creates a parameter of count values (zero) and its gradient. */
static int rn__param_new(rn_param *param, const char *layer_name, const char *short_name,
                         rn_param_kind kind, int layer, int ndim, const int *shape)
{
    int status;
    memset(param, 0, sizeof *param);
    snprintf(param->name, sizeof param->name, "%s.%s", layer_name, short_name);
    param->kind = kind;
    param->layer = layer;
    param->min = -INFINITY;
    param->max = INFINITY;
    status = rn_tensor_new(&param->value, ndim, shape);
    if (status == RN_OK) status = rn_tensor_new(&param->grad, ndim, shape);
    if (status != RN_OK) {
        rn_tensor_free(&param->value);
        rn_tensor_free(&param->grad);
    }
    return status;
}

/* ===== 6. kernels ========================================================= */

/* Everything a convolution kernel needs to know about its shapes. */
typedef struct rn__conv_geometry {
    int batch;
    int in_channels, in_height, in_width;
    int out_channels, out_height, out_width;
    int kernel, stride, padding;
} rn__conv_geometry;

/* The kernels behind the layers. Dispatch fills this table once with the
   best implementation of each entry the CPU supports; the scalar versions
   below are the reference every other version is tested against. */
typedef struct rn__kernel_table {
    const char *isa;
    /* C = op(A) op(B) + beta C, row-major, op transposes when asked. */
    void (*sgemm)(int transpose_a, int transpose_b, int m, int n, int k, const float *a,
                  int lda, const float *b, int ldb, float beta, float *c, int ldc);
    /* y = conv(x, w) + bias (bias may be NULL). */
    void (*conv2d_forward)(const rn__conv_geometry *g, const float *x, const float *w,
                           const float *bias, float *y);
    /* dx = conv_transpose(dy, w), overwriting dx. */
    void (*conv2d_backward_input)(const rn__conv_geometry *g, const float *dy, const float *w,
                                  float *dx);
    /* dw += correlation of x and dy; dbias += sums of dy (dbias may be NULL). */
    void (*conv2d_backward_weight)(const rn__conv_geometry *g, const float *x, const float *dy,
                                   float *dw, float *dbias);
} rn__kernel_table;

static void rn__sgemm_scalar(int transpose_a, int transpose_b, int m, int n, int k,
                             const float *a, int lda, const float *b, int ldb, float beta,
                             float *c, int ldc)
{
    int i, j, p;
    for (i = 0; i < m; i++) {
        float *c_row = c + (size_t)i * ldc;
        for (j = 0; j < n; j++) c_row[j] = beta == 0.0f ? 0.0f : beta * c_row[j];
        for (p = 0; p < k; p++) {
            float a_ip = transpose_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
            if (transpose_b) {
                for (j = 0; j < n; j++) c_row[j] += a_ip * b[(size_t)j * ldb + p];
            } else {
                const float *b_row = b + (size_t)p * ldb;
                for (j = 0; j < n; j++) c_row[j] += a_ip * b_row[j];
            }
        }
    }
}

/* The outputs o in [*first, *last) whose input index o*stride + offset lies
   in [0, in_size): computing them once keeps bounds tests out of the loops. */
static void rn__valid_outputs(int out_size, int in_size, int offset, int stride, int *first,
                              int *last)
{
    int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    int hi = in_size - offset <= 0 ? 0 : (in_size - offset - 1) / stride + 1;
    *first = lo;
    *last = hi < out_size ? hi : out_size;
    if (*last < *first) *last = *first;
}

enum { RN__CONV_FORWARD, RN__CONV_INPUT_GRAD, RN__CONV_WEIGHT_GRAD };

/* Direct convolution of one input plane with one output plane through one
   k x k filter, visiting every (tap, output position) pair once:
     forward:     out += w * in
     input grad:  in  += w * out
     weight grad: w   += sum in * out
   All three passes share this walk so they cannot disagree on indexing. */
static void rn__conv_plane(const rn__conv_geometry *g, int pass, float *in, float *out,
                           float *filter)
{
    int kh, kw, oh, ow;
    for (kh = 0; kh < g->kernel; kh++) {
        int oh_first, oh_last;
        rn__valid_outputs(g->out_height, g->in_height, kh - g->padding, g->stride, &oh_first,
                          &oh_last);
        for (kw = 0; kw < g->kernel; kw++) {
            int ow_first, ow_last;
            float w = filter[kh * g->kernel + kw];
            double sum = 0.0;
            rn__valid_outputs(g->out_width, g->in_width, kw - g->padding, g->stride, &ow_first,
                              &ow_last);
            for (oh = oh_first; oh < oh_last; oh++) {
                float *in_row = in + (size_t)(oh * g->stride + kh - g->padding) * g->in_width +
                                kw - g->padding;
                float *out_row = out + (size_t)oh * g->out_width;
                if (pass == RN__CONV_FORWARD)
                    for (ow = ow_first; ow < ow_last; ow++) out_row[ow] += w * in_row[ow * g->stride];
                else if (pass == RN__CONV_INPUT_GRAD)
                    for (ow = ow_first; ow < ow_last; ow++) in_row[ow * g->stride] += w * out_row[ow];
                else
                    for (ow = ow_first; ow < ow_last; ow++)
                        sum += (double)in_row[ow * g->stride] * out_row[ow];
            }
            if (pass == RN__CONV_WEIGHT_GRAD) filter[kh * g->kernel + kw] += (float)sum;
        }
    }
}

/* Runs one pass over every (sample, output channel, input channel) triple.
   The casts drop const only for the operand the pass does not write. */
static void rn__conv_direct(const rn__conv_geometry *g, int pass, const float *x, float *dx,
                            const float *y, float *w)
{
    size_t in_plane = (size_t)g->in_height * g->in_width;
    size_t out_plane = (size_t)g->out_height * g->out_width;
    size_t filter_size = (size_t)g->kernel * g->kernel;
    int n, o, c;
    for (n = 0; n < g->batch; n++)
        for (o = 0; o < g->out_channels; o++)
            for (c = 0; c < g->in_channels; c++) {
                size_t in_offset = ((size_t)n * g->in_channels + c) * in_plane;
                float *in = pass == RN__CONV_INPUT_GRAD ? dx + in_offset : (float *)x + in_offset;
                rn__conv_plane(g, pass, in,
                               (float *)y + ((size_t)n * g->out_channels + o) * out_plane,
                               w + ((size_t)o * g->in_channels + c) * filter_size);
            }
}

static void rn__conv2d_forward_scalar(const rn__conv_geometry *g, const float *x,
                                      const float *w, const float *bias, float *y)
{
    size_t out_plane = (size_t)g->out_height * g->out_width;
    size_t i;
    int n, o;
    for (n = 0; n < g->batch; n++)
        for (o = 0; o < g->out_channels; o++) {
            float *plane = y + ((size_t)n * g->out_channels + o) * out_plane;
            for (i = 0; i < out_plane; i++) plane[i] = bias ? bias[o] : 0.0f;
        }
    rn__conv_direct(g, RN__CONV_FORWARD, x, NULL, y, (float *)w);
}

static void rn__conv2d_backward_input_scalar(const rn__conv_geometry *g, const float *dy,
                                             const float *w, float *dx)
{
    memset(dx, 0, (size_t)g->batch * g->in_channels * g->in_height * g->in_width * sizeof(float));
    rn__conv_direct(g, RN__CONV_INPUT_GRAD, NULL, dx, dy, (float *)w);
}

static void rn__conv2d_backward_weight_scalar(const rn__conv_geometry *g, const float *x,
                                              const float *dy, float *dw, float *dbias)
{
    size_t out_plane = (size_t)g->out_height * g->out_width;
    size_t i;
    int n, o;
    rn__conv_direct(g, RN__CONV_WEIGHT_GRAD, x, NULL, dy, dw);
    if (dbias == NULL) return;
    for (o = 0; o < g->out_channels; o++) {
        double sum = 0.0;
        for (n = 0; n < g->batch; n++) {
            const float *plane = dy + ((size_t)n * g->out_channels + o) * out_plane;
            for (i = 0; i < out_plane; i++) sum += plane[i];
        }
        dbias[o] += (float)sum;
    }
}

static rn__kernel_table rn__kernels = {
    "scalar",
    rn__sgemm_scalar,
    rn__conv2d_forward_scalar,
    rn__conv2d_backward_input_scalar,
    rn__conv2d_backward_weight_scalar
};

/* ===== 7. activations ===================================================== */

/* An activation kind is a row of the table below and two functions over a
   contiguous run of n elements that share one set of values p: the run's
   learned parameters in table order (mixture weights already divided by
   their sum, see rn__act_gather), then the layer's fixed slope (LReLU's,
   which is a constant, not a parameter). backward writes dx and adds each
   parameter's gradient, summed over the run, to dp[k]. x, y and dy are the
   layer's input, output and upstream gradient. */
typedef void (*rn__act_forward_fn)(const float *x, float *y, size_t n, const float *p);
typedef void (*rn__act_backward_fn)(const float *x, const float *y, const float *dy, float *dx,
                                    size_t n, const float *p, double *dp);

typedef struct rn__act_info {
    const char *name;
    int n_params;
    int n_mix_weights; /* leading parameters that are mixture weights */
    const char *param_names[RN_ACT_MAX_PARAMS];
    float defaults[RN_ACT_MAX_PARAMS];
    rn__act_forward_fn forward;
    rn__act_backward_fn backward;
} rn__act_info;

static void rn__identity_forward(const float *x, float *y, size_t n, const float *p)
{
    (void)p;
    if (y != x) memmove(y, x, n * sizeof(float));
}

static void rn__identity_backward(const float *x, const float *y, const float *dy, float *dx,
                                  size_t n, const float *p, double *dp)
{
    (void)x, (void)y, (void)p, (void)dp;
    memmove(dx, dy, n * sizeof(float));
}

static void rn__relu_forward(const float *x, float *y, size_t n, const float *p)
{
    size_t i;
    (void)p;
    for (i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void rn__relu_backward(const float *x, const float *y, const float *dy, float *dx,
                              size_t n, const float *p, double *dp)
{
    size_t i;
    (void)y, (void)p, (void)dp;
    for (i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

static void rn__sigmoid_forward(const float *x, float *y, size_t n, const float *p)
{
    size_t i;
    (void)p;
    for (i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

static void rn__sigmoid_backward(const float *x, const float *y, const float *dy, float *dx,
                                 size_t n, const float *p, double *dp)
{
    size_t i;
    (void)x, (void)p, (void)dp;
    for (i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

static void rn__tanh_forward(const float *x, float *y, size_t n, const float *p)
{
    size_t i;
    (void)p;
    for (i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

static void rn__tanh_backward(const float *x, const float *y, const float *dy, float *dx,
                              size_t n, const float *p, double *dp)
{
    size_t i;
    (void)x, (void)p, (void)dp;
    for (i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

/* x for x > 0, p[0] * x otherwise: PReLU's learned slope, or LReLU's fixed
   slope (which gets a gradient nobody reads). */
static void rn__prelu_forward(const float *x, float *y, size_t n, const float *p)
{
    float slope = p[0];
    size_t i;
    for (i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

static void rn__prelu_backward(const float *x, const float *y, const float *dy, float *dx,
                               size_t n, const float *p, double *dp)
{
    float slope = p[0];
    double dslope = 0.0;
    size_t i;
    (void)y;
    for (i = 0; i < n; i++) {
        int positive = x[i] > 0.0f;
        dx[i] = positive ? dy[i] : slope * dy[i];
        dslope += positive ? 0.0f : dy[i] * x[i];
    }
    dp[0] += dslope;
}

/* ReLU(x) - (1 - alpha) ReLU(-x) is PReLU with slope 1 - alpha. */
static void rn__relu_alpha_forward(const float *x, float *y, size_t n, const float *p)
{
    float slope = 1.0f - p[0];
    rn__prelu_forward(x, y, n, &slope);
}

static void rn__relu_alpha_backward(const float *x, const float *y, const float *dy, float *dx,
                                    size_t n, const float *p, double *dp)
{
    float slope = 1.0f - p[0];
    double dslope = 0.0;
    rn__prelu_backward(x, y, dy, dx, n, &slope, &dslope);
    dp[0] -= dslope;
}

/* ASigmoid and ATanh: b * f(a x + c) + d with p = (a, b, c, d). */
static void rn__asigmoid_forward(const float *x, float *y, size_t n, const float *p)
{
    float a = p[0], b = p[1], c = p[2], d = p[3];
    size_t i;
    for (i = 0; i < n; i++) y[i] = b / (1.0f + expf(-(a * x[i] + c))) + d;
}

static void rn__atanh_forward(const float *x, float *y, size_t n, const float *p)
{
    float a = p[0], b = p[1], c = p[2], d = p[3];
    size_t i;
    for (i = 0; i < n; i++) y[i] = b * tanhf(a * x[i] + c) + d;
}

/* The backward of b f(a x + c) + d, given f = f(a x + c) in dx (overwritten
   with the input gradient). Both derivatives are quadratics in f's value,
   f' = k0 + f (k1 - f): sigmoid' = s - s^2, tanh' = 1 - t^2. y cannot stand
   in for f: recovering f = (y - d) / b loses precision when b is small. */
static void rn__affine_backward(const float *x, const float *dy, float *dx, size_t n,
                                const float *p, double *dp, float k0, float k1)
{
    float a = p[0], b = p[1];
    double da = 0.0, db = 0.0, dc = 0.0, dd = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        float f = dx[i], g = dy[i], du = g * b * (k0 + f * (k1 - f));
        da += du * x[i];
        db += g * f;
        dc += du;
        dd += g;
        dx[i] = du * a;
    }
    dp[0] += da;
    dp[1] += db;
    dp[2] += dc;
    dp[3] += dd;
}

static void rn__asigmoid_backward(const float *x, const float *y, const float *dy, float *dx,
                                  size_t n, const float *p, double *dp)
{
    const float inner[4] = {p[0], 1.0f, p[2], 0.0f}; /* f alone: b = 1, d = 0 */
    (void)y;
    rn__asigmoid_forward(x, dx, n, inner);
    rn__affine_backward(x, dy, dx, n, p, dp, 0.0f, 1.0f);
}

static void rn__atanh_backward(const float *x, const float *y, const float *dy, float *dx,
                               size_t n, const float *p, double *dp)
{
    const float inner[4] = {p[0], 1.0f, p[2], 0.0f};
    (void)y;
    rn__atanh_forward(x, dx, n, inner);
    rn__affine_backward(x, dy, dx, n, p, dp, 1.0f, 0.0f);
}

/* AReLU: max(a x + c, b x + d) with p = (a, b, c, d). At a tie the first
   line wins, in the forward and the gradient alike (as TensorFlow's
   maximum does), so the default a = b, c = d trains a and c first. */
static void rn__arelu_forward(const float *x, float *y, size_t n, const float *p)
{
    float a = p[0], b = p[1], c = p[2], d = p[3];
    size_t i;
    for (i = 0; i < n; i++) {
        float first = a * x[i] + c, second = b * x[i] + d;
        y[i] = first >= second ? first : second;
    }
}

static void rn__arelu_backward(const float *x, const float *y, const float *dy, float *dx,
                               size_t n, const float *p, double *dp)
{
    float a = p[0], b = p[1], c = p[2], d = p[3];
    double da = 0.0, db = 0.0, dc = 0.0, dd = 0.0;
    size_t i;
    (void)y;
    for (i = 0; i < n; i++) {
        float g_first = a * x[i] + c >= b * x[i] + d ? dy[i] : 0.0f, g_second = dy[i] - g_first;
        da += g_first * x[i];
        dc += g_first;
        db += g_second * x[i];
        dd += g_second;
        dx[i] = g_first * a + g_second * b;
    }
    dp[0] += da;
    dp[1] += db;
    dp[2] += dc;
    dp[3] += dd;
}

/* Method 1: X ATanh(x) + Y ASigmoid(x) + Z AReLU(x), the three parts sharing
   u = a x + c, with p = (X, Y, Z, a, b, c, d): the layer has already
   normalised the weights. */
static void rn__mix_adaptive_forward(const float *x, float *y, size_t n, const float *p)
{
    float wt = p[0], ws = p[1], wr = p[2], a = p[3], b = p[4], c = p[5], d = p[6];
    size_t i;
    for (i = 0; i < n; i++) {
        float u = a * x[i] + c, v = b * x[i] + d;
        float t = tanhf(u), s = 1.0f / (1.0f + expf(-u)), r = u >= v ? u : v;
        y[i] = wt * (b * t + d) + ws * (b * s + d) + wr * r;
    }
}

static void rn__mix_adaptive_backward(const float *x, const float *y, const float *dy, float *dx,
                                      size_t n, const float *p, double *dp)
{
    float wt = p[0], ws = p[1], wr = p[2], a = p[3], b = p[4], c = p[5], d = p[6];
    double dwt = 0.0, dws = 0.0, dwr = 0.0, da = 0.0, db = 0.0, dc = 0.0, dd = 0.0;
    size_t i;
    (void)y;
    for (i = 0; i < n; i++) {
        float u = a * x[i] + c, v = b * x[i] + d, g = dy[i];
        float t = tanhf(u), s = 1.0f / (1.0f + expf(-u)), r = u >= v ? u : v;
        float gt = g * wt, gs = g * ws, gr_first = u >= v ? g * wr : 0.0f;
        float gr_second = g * wr - gr_first;
        /* all that reaches u = a x + c; AReLU's second line gets gr_second */
        float du = b * (gt * (1.0f - t * t) + gs * s * (1.0f - s)) + gr_first;
        dwt += g * (b * t + d);
        dws += g * (b * s + d);
        dwr += g * r;
        da += du * x[i];
        db += gt * t + gs * s + gr_second * x[i];
        dc += du;
        dd += gt + gs + gr_second;
        dx[i] = du * a + gr_second * b;
    }
    dp[0] += dwt;
    dp[1] += dws;
    dp[2] += dwr;
    dp[3] += da;
    dp[4] += db;
    dp[5] += dc;
    dp[6] += dd;
}

/* Method 2: X tanh(x) + Y sigmoid(x) + Z ReLU(x) with p = (X, Y, Z). */
static void rn__mix_fixed_forward(const float *x, float *y, size_t n, const float *p)
{
    float wt = p[0], ws = p[1], wr = p[2];
    size_t i;
    for (i = 0; i < n; i++)
        y[i] = wt * tanhf(x[i]) + ws / (1.0f + expf(-x[i])) + wr * (x[i] > 0.0f ? x[i] : 0.0f);
}

static void rn__mix_fixed_backward(const float *x, const float *y, const float *dy, float *dx,
                                   size_t n, const float *p, double *dp)
{
    float wt = p[0], ws = p[1], wr = p[2];
    double dwt = 0.0, dws = 0.0, dwr = 0.0;
    size_t i;
    (void)y;
    for (i = 0; i < n; i++) {
        float t = tanhf(x[i]), s = 1.0f / (1.0f + expf(-x[i])), positive = x[i] > 0.0f, g = dy[i];
        dwt += g * t;
        dws += g * s;
        dwr += g * positive * x[i];
        dx[i] = g * (wt * (1.0f - t * t) + ws * s * (1.0f - s) + wr * positive);
    }
    dp[0] += dwt;
    dp[1] += dws;
    dp[2] += dwr;
}

#define RN__AFFINE_NAMES "a", "b", "c", "d"
#define RN__AFFINE_DEFAULTS 1.0f, 1.0f, 0.0f, 0.0f
#define RN__MIX_NAMES "mix_alpha", "mix_beta", "mix_gamma"

static const rn__act_info rn__act_table[RN_ACT_KIND_COUNT] = {
    /* name    params mixture weights   names   defaults   forward, backward */
    {"identity", 0, 0, {NULL}, {0}, rn__identity_forward, rn__identity_backward},
    {"relu",     0, 0, {NULL}, {0}, rn__relu_forward, rn__relu_backward},
    {"sigmoid",  0, 0, {NULL}, {0}, rn__sigmoid_forward, rn__sigmoid_backward},
    {"tanh",     0, 0, {NULL}, {0}, rn__tanh_forward, rn__tanh_backward},
    {"lrelu",    0, 0, {NULL}, {0}, rn__prelu_forward, rn__prelu_backward},
    {"prelu",    1, 0, {"slope"}, {0.25f}, rn__prelu_forward, rn__prelu_backward},
    {"relu_alpha", 1, 0, {"alpha"}, {1.0f}, rn__relu_alpha_forward, rn__relu_alpha_backward},
    {"asigmoid", 4, 0, {RN__AFFINE_NAMES}, {RN__AFFINE_DEFAULTS}, rn__asigmoid_forward,
     rn__asigmoid_backward},
    {"atanh",    4, 0, {RN__AFFINE_NAMES}, {RN__AFFINE_DEFAULTS}, rn__atanh_forward,
     rn__atanh_backward},
    {"arelu",    4, 0, {RN__AFFINE_NAMES}, {RN__AFFINE_DEFAULTS}, rn__arelu_forward,
     rn__arelu_backward},
    {"mix_adaptive", 7, 3, {RN__MIX_NAMES, RN__AFFINE_NAMES},
     {1.0f, 1.0f, 1.0f, RN__AFFINE_DEFAULTS}, rn__mix_adaptive_forward, rn__mix_adaptive_backward},
    {"mix_fixed", 3, 3, {RN__MIX_NAMES}, {1.0f, 1.0f, 1.0f}, rn__mix_fixed_forward,
     rn__mix_fixed_backward}
};

RN_API const char *rn_act_kind_name(rn_act_kind kind)
{
    return (unsigned)kind < RN_ACT_KIND_COUNT ? rn__act_table[kind].name : "unknown";
}

RN_API int rn_act_param_count(rn_act_kind kind)
{
    return (unsigned)kind < RN_ACT_KIND_COUNT ? rn__act_table[kind].n_params : 0;
}

RN_API const char *rn_act_param_name(rn_act_kind kind, int index)
{
    if (index < 0 || index >= rn_act_param_count(kind)) return NULL;
    return rn__act_table[kind].param_names[index];
}

/* ===== 8. layers ========================================================== */

static size_t rn__dims_product(int ndim, const int *dims)
{
    size_t product = 1;
    int i;
    for (i = 0; i < ndim; i++) product *= (size_t)dims[i];
    return product;
}

/* Shapes a tensor as N x dims (the batch first, then one sample's shape). */
static int rn__resize_batch(rn_tensor *tensor, int batch, int ndim, const int *dims)
{
    int shape[RN_MAX_DIMS];
    shape[0] = batch;
    memcpy(shape + 1, dims, (size_t)ndim * sizeof(int));
    return rn_tensor_resize(tensor, ndim + 1, shape);
}

static int rn__check_batch_shape(const rn_tensor *x, int ndim, const int *dims, const char *caller,
                                 const char *what)
{
    char expected[64], got[64];
    int shape[RN_MAX_DIMS], i, ok;
    if (x == NULL || x->data == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: %s is NULL or empty", caller, what);
    ok = x->ndim == ndim + 1 && x->shape[0] >= 1;
    for (i = 0; ok && i < ndim; i++) ok = x->shape[i + 1] == dims[i];
    if (ok) return RN_OK;
    shape[0] = x->shape[0];
    memcpy(shape + 1, dims, (size_t)ndim * sizeof(int));
    rn__dims_string(ndim + 1, shape, expected, sizeof expected);
    rn_tensor_shape_string(x, got, sizeof got);
    return rn_set_error(RN_ERR_SHAPE, "%s: %s has shape %s, expected %s (N = batch)", caller, what,
                        got, expected);
}

static rn__conv_geometry rn__layer_geometry(const rn_layer *layer, int batch)
{
    rn__conv_geometry g;
    g.batch = batch;
    g.in_channels = layer->in_shape[0];
    g.in_height = layer->in_shape[1];
    g.in_width = layer->in_shape[2];
    g.out_channels = layer->out_shape[0];
    g.out_height = layer->out_shape[1];
    g.out_width = layer->out_shape[2];
    g.kernel = layer->kernel;
    g.stride = layer->stride;
    g.padding = layer->padding;
    return g;
}

/* Linear layers see each sample as a vector of all its values. */
static void rn__linear_forward(const rn_layer *layer, const rn_tensor *x, rn_tensor *y)
{
    int batch = x->shape[0], in = (int)(x->size / (size_t)batch), out = layer->units, n, j;
    const rn_param *weight = &layer->params[0];
    rn__kernels.sgemm(0, 1, batch, out, in, x->data, in, weight->value.data, in, 0.0f, y->data,
                      out);
    if (!layer->has_bias) return;
    for (n = 0; n < batch; n++)
        for (j = 0; j < out; j++) y->data[(size_t)n * out + j] += layer->params[1].value.data[j];
}

static void rn__linear_backward(rn_layer *layer, const rn_tensor *x, const rn_tensor *dy,
                                rn_tensor *dx)
{
    int batch = x->shape[0], in = (int)(x->size / (size_t)batch), out = layer->units, n, j;
    rn_param *weight = &layer->params[0];
    rn__kernels.sgemm(1, 0, out, in, batch, dy->data, out, x->data, in, 1.0f, weight->grad.data,
                      in);
    if (layer->has_bias)
        for (j = 0; j < out; j++) {
            double sum = 0.0;
            for (n = 0; n < batch; n++) sum += dy->data[(size_t)n * out + j];
            layer->params[1].grad.data[j] += (float)sum;
        }
    if (dx != NULL)
        rn__kernels.sgemm(0, 0, batch, in, out, dy->data, out, weight->value.data, in, 0.0f,
                          dx->data, in);
}

/* Max and average pooling over kernel x kernel windows without padding.
   Backward of max pooling sends the gradient to the first maximum of each
   window, found again from x rather than stored. */
static void rn__pool(const rn_layer *layer, int batch, const float *x, float *y, const float *dy,
                     float *dx)
{
    int planes = batch * layer->in_shape[0], height = layer->in_shape[1], width = layer->in_shape[2];
    int out_height = layer->out_shape[1], out_width = layer->out_shape[2], k = layer->kernel;
    int is_max = layer->type == RN_LAYER_MAXPOOL2D, p, oh, ow, i, j;
    float inverse_area = 1.0f / (float)(k * k);
    if (dx != NULL) memset(dx, 0, (size_t)planes * height * width * sizeof(float));
    for (p = 0; p < planes; p++)
        for (oh = 0; oh < out_height; oh++)
            for (ow = 0; ow < out_width; ow++) {
                size_t corner = ((size_t)p * height + (size_t)oh * layer->stride) * width +
                                (size_t)ow * layer->stride;
                size_t out = ((size_t)p * out_height + oh) * out_width + ow, best = corner;
                float sum = 0.0f;
                for (i = 0; i < k; i++)
                    for (j = 0; j < k; j++) {
                        size_t at = corner + (size_t)i * width + j;
                        if (x[at] > x[best]) best = at;
                        sum += x[at];
                        if (dx != NULL && !is_max) dx[at] += dy[out] * inverse_area;
                    }
                if (dx == NULL) y[out] = is_max ? x[best] : sum * inverse_area;
                else if (is_max) dx[best] += dy[out];
            }
}

/* Splits an activation's input into runs that share parameter values: the
   whole batch for per-layer sharing, one channel plane per sample otherwise. */
static void rn__act_runs(const rn_layer *layer, const rn_tensor *x, size_t *run, int *channels)
{
    *channels = layer->act.share == RN_SHARE_CHANNEL ? layer->in_shape[0] : 1;
    *run = *channels == 1 ? x->size : x->size / (size_t)x->shape[0] / (size_t)*channels;
}

/* Fills p with the values the kernels see for one channel (see section 7)
   and returns the sum that divided the mixture weights, 1 when none did. */
static double rn__act_gather(const rn_layer *layer, int channel, float *p)
{
    const rn__act_info *info = &rn__act_table[layer->act.kind];
    double sum = 0.0;
    int k;
    for (k = 0; k < layer->n_params; k++) p[k] = layer->params[k].value.data[channel];
    p[layer->n_params] = layer->act.slope;
    if (info->n_mix_weights == 0 || layer->act.unnormalized) return 1.0;
    for (k = 0; k < info->n_mix_weights; k++) sum += p[k];
    for (k = 0; k < info->n_mix_weights; k++) p[k] = (float)(p[k] / sum);
    return sum;
}

/* Adds one run's gradients dp to the layer's parameters. The kernels saw
   the normalised weights W_k = w_k / sum; the chain rule through the
   division gives d/dw_k = (dW_k - sum_j W_j dW_j) / sum. */
static void rn__act_scatter(rn_layer *layer, int channel, const float *p, double sum, double *dp)
{
    int k, n_weights = layer->act.unnormalized ? 0 : rn__act_table[layer->act.kind].n_mix_weights;
    double weighted = 0.0;
    for (k = 0; k < n_weights; k++) weighted += p[k] * dp[k];
    for (k = 0; k < n_weights; k++) dp[k] = (dp[k] - weighted) / sum;
    for (k = 0; k < layer->n_params; k++) layer->params[k].grad.data[channel] += (float)dp[k];
}

static void rn__act_forward(const rn_layer *layer, const rn_tensor *x, rn_tensor *y)
{
    const rn__act_info *info = &rn__act_table[layer->act.kind];
    float p[RN_ACT_MAX_PARAMS + 1];
    size_t run, start;
    int channels;
    rn__act_runs(layer, x, &run, &channels);
    for (start = 0; start < x->size; start += run) {
        rn__act_gather(layer, (int)(start / run % (size_t)channels), p);
        info->forward(x->data + start, y->data + start, run, p);
    }
}

static void rn__act_backward(rn_layer *layer, const rn_tensor *x, const rn_tensor *y,
                             const rn_tensor *dy, float *dx)
{
    const rn__act_info *info = &rn__act_table[layer->act.kind];
    float p[RN_ACT_MAX_PARAMS + 1];
    double dp[RN_ACT_MAX_PARAMS];
    size_t run, start;
    int channels;
    rn__act_runs(layer, x, &run, &channels);
    for (start = 0; start < x->size; start += run) {
        int channel = (int)(start / run % (size_t)channels);
        double sum = rn__act_gather(layer, channel, p);
        memset(dp, 0, sizeof dp);
        info->backward(x->data + start, y->data + start, dy->data + start, dx + start, run, p, dp);
        rn__act_scatter(layer, channel, p, sum, dp);
    }
}

/* Batch norm sees a batch as channels of values: value i of channel c of
   sample n is at (n * channels + c) * plane + i, where plane is H x W for a
   (C, H, W) sample and 1 for a vector. */
static void rn__norm_layout(const rn_layer *layer, const rn_tensor *x, int *channels, size_t *plane)
{
    *channels = layer->in_shape[0];
    *plane = x->size / (size_t)x->shape[0] / (size_t)*channels;
}

/* The batch's mean and 1 / sqrt(variance + eps) per channel, with the
   biased variance, as the normalisation uses; the running statistics move
   towards the mean and the unbiased variance. */
static void rn__batchnorm_statistics(rn_layer *layer, const rn_tensor *x)
{
    int batch = x->shape[0], channels, n, c;
    size_t plane, i, count;
    float m = layer->momentum;
    rn__norm_layout(layer, x, &channels, &plane);
    count = (size_t)batch * plane;
    for (c = 0; c < channels; c++) {
        double sum = 0.0, squares = 0.0, mean;
        for (n = 0; n < batch; n++) {
            const float *values = x->data + ((size_t)n * channels + c) * plane;
            for (i = 0; i < plane; i++) sum += values[i];
        }
        mean = sum / (double)count;
        for (n = 0; n < batch; n++) {
            const float *values = x->data + ((size_t)n * channels + c) * plane;
            for (i = 0; i < plane; i++) squares += (values[i] - mean) * (values[i] - mean);
        }
        layer->used_mean.data[c] = (float)mean;
        layer->used_inv_std.data[c] = (float)(1.0 / sqrt(squares / (double)count + layer->eps));
        layer->running_mean.data[c] = (1.0f - m) * layer->running_mean.data[c] + m * (float)mean;
        layer->running_var.data[c] = (1.0f - m) * layer->running_var.data[c] +
                                     m * (float)(squares / (double)(count - 1));
    }
}

static int rn__batchnorm_forward(rn_layer *layer, const rn_tensor *x, rn_tensor *y, rn_mode mode)
{
    int batch = x->shape[0], channels, n, c;
    size_t plane, i;
    rn__norm_layout(layer, x, &channels, &plane);
    if (mode == RN_TRAIN && (size_t)batch * plane < 2)
        return rn_set_error(RN_ERR_SHAPE, "rn_layer_forward: %s needs at least 2 values per "
                            "channel to train, the batch has 1", layer->name);
    if (mode == RN_TRAIN) {
        rn__batchnorm_statistics(layer, x);
    } else {
        for (c = 0; c < channels; c++) {
            layer->used_mean.data[c] = layer->running_mean.data[c];
            layer->used_inv_std.data[c] = 1.0f / sqrtf(layer->running_var.data[c] + layer->eps);
        }
    }
    for (n = 0; n < batch; n++)
        for (c = 0; c < channels; c++) {
            size_t offset = ((size_t)n * channels + c) * plane;
            float mean = layer->used_mean.data[c];
            float gain = layer->params[0].value.data[c] * layer->used_inv_std.data[c];
            float shift = layer->params[1].value.data[c];
            for (i = 0; i < plane; i++) y->data[offset + i] = (x->data[offset + i] - mean) * gain + shift;
        }
    return RN_OK;
}

/* With x^ = (x - mean) / std, d scale = sum dy x^ and d shift = sum dy. In
   training the mean and std depend on x too, which subtracts from dy its
   mean and its projection on x^ (both over the channel's count values):
       dx = scale / std (dy - mean(dy) - x^ mean(dy x^)). */
static void rn__batchnorm_backward(rn_layer *layer, const rn_tensor *x, const rn_tensor *dy,
                                   float *dx)
{
    int batch = x->shape[0], channels, n, c;
    size_t plane, i;
    rn__norm_layout(layer, x, &channels, &plane);
    for (c = 0; c < channels; c++) {
        float mean = layer->used_mean.data[c], inv_std = layer->used_inv_std.data[c];
        float gain = layer->params[0].value.data[c] * inv_std, mean_dy, mean_dy_xhat;
        double sum_dy = 0.0, sum_dy_xhat = 0.0, count = (double)batch * (double)plane;
        for (n = 0; n < batch; n++) {
            size_t offset = ((size_t)n * channels + c) * plane;
            for (i = 0; i < plane; i++) {
                sum_dy += dy->data[offset + i];
                sum_dy_xhat += dy->data[offset + i] * (x->data[offset + i] - mean) * inv_std;
            }
        }
        layer->params[0].grad.data[c] += (float)sum_dy_xhat;
        layer->params[1].grad.data[c] += (float)sum_dy;
        if (dx == NULL) continue;
        mean_dy = layer->mode == RN_TRAIN ? (float)(sum_dy / count) : 0.0f;
        mean_dy_xhat = layer->mode == RN_TRAIN ? (float)(sum_dy_xhat / count) : 0.0f;
        for (n = 0; n < batch; n++) {
            size_t offset = ((size_t)n * channels + c) * plane;
            for (i = 0; i < plane; i++) {
                float xhat = (x->data[offset + i] - mean) * inv_std;
                dx[offset + i] = gain * (dy->data[offset + i] - mean_dy - xhat * mean_dy_xhat);
            }
        }
    }
}

/* Training draws a new mask per batch and keeps it for backward. */
static int rn__dropout_forward(rn_layer *layer, const rn_tensor *x, rn_tensor *y, rn_mode mode)
{
    float keep_scale = 1.0f / (1.0f - layer->drop_rate);
    size_t i;
    int status;
    if (mode == RN_EVAL) {
        memcpy(y->data, x->data, x->size * sizeof(float));
        return RN_OK;
    }
    status = rn_tensor_resize(&layer->mask, x->ndim, x->shape);
    if (status != RN_OK) return status;
    for (i = 0; i < x->size; i++) {
        layer->mask.data[i] = rn_rng_uniform(&layer->rng) < layer->drop_rate ? 0.0f : keep_scale;
        y->data[i] = x->data[i] * layer->mask.data[i];
    }
    return RN_OK;
}

static int rn__dropout_backward(rn_layer *layer, const rn_tensor *dy, float *dx)
{
    size_t i;
    if (layer->mode == RN_EVAL) {
        memcpy(dx, dy->data, dy->size * sizeof(float));
        return RN_OK;
    }
    if (layer->mask.size != dy->size)
        return rn_set_error(RN_ERR_SHAPE, "rn_layer_backward: %s's last training batch had %lu "
                            "values, the gradient %lu", layer->name,
                            (unsigned long)layer->mask.size, (unsigned long)dy->size);
    for (i = 0; i < dy->size; i++) dx[i] = dy->data[i] * layer->mask.data[i];
    return RN_OK;
}

RN_API int rn_layer_forward(rn_layer *layer, const rn_tensor *x, rn_tensor *y, rn_mode mode)
{
    rn__conv_geometry g;
    int status;
    if (layer == NULL || y == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_layer_forward: NULL layer or output");
    status = rn__check_batch_shape(x, layer->in_ndim, layer->in_shape, "rn_layer_forward", "input");
    if (status == RN_OK) status = rn__resize_batch(y, x->shape[0], layer->out_ndim, layer->out_shape);
    if (status != RN_OK) return status;
    layer->mode = mode;
    switch (layer->type) {
    case RN_LAYER_CONV2D:
        g = rn__layer_geometry(layer, x->shape[0]);
        rn__kernels.conv2d_forward(&g, x->data, layer->params[0].value.data,
                                   layer->has_bias ? layer->params[1].value.data : NULL, y->data);
        break;
    case RN_LAYER_LINEAR: rn__linear_forward(layer, x, y); break;
    case RN_LAYER_MAXPOOL2D:
    case RN_LAYER_AVGPOOL2D: rn__pool(layer, x->shape[0], x->data, y->data, NULL, NULL); break;
    case RN_LAYER_FLATTEN: memcpy(y->data, x->data, x->size * sizeof(float)); break;
    case RN_LAYER_ACTIVATION: rn__act_forward(layer, x, y); break;
    case RN_LAYER_BATCHNORM: return rn__batchnorm_forward(layer, x, y, mode);
    case RN_LAYER_DROPOUT: return rn__dropout_forward(layer, x, y, mode);
    }
    return RN_OK;
}

RN_API int rn_layer_backward(rn_layer *layer, const rn_tensor *x, const rn_tensor *y,
                             const rn_tensor *dy, rn_tensor *dx)
{
    rn__conv_geometry g;
    int status;
    if (layer == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_layer_backward: layer is NULL");
    status = rn__check_batch_shape(x, layer->in_ndim, layer->in_shape, "rn_layer_backward", "input");
    if (status == RN_OK)
        status = rn__check_batch_shape(y, layer->out_ndim, layer->out_shape, "rn_layer_backward",
                                       "output");
    if (status == RN_OK)
        status = rn__check_batch_shape(dy, layer->out_ndim, layer->out_shape, "rn_layer_backward",
                                       "output gradient");
    if (status == RN_OK && (y->shape[0] != x->shape[0] || dy->shape[0] != x->shape[0]))
        status = rn_set_error(RN_ERR_SHAPE, "rn_layer_backward: batch sizes %d, %d, %d differ",
                              x->shape[0], y->shape[0], dy->shape[0]);
    if (status == RN_OK && dx != NULL)
        status = rn__resize_batch(dx, x->shape[0], layer->in_ndim, layer->in_shape);
    if (status != RN_OK) return status;
    switch (layer->type) {
    case RN_LAYER_CONV2D:
        g = rn__layer_geometry(layer, x->shape[0]);
        rn__kernels.conv2d_backward_weight(&g, x->data, dy->data, layer->params[0].grad.data,
                                           layer->has_bias ? layer->params[1].grad.data : NULL);
        if (dx != NULL)
            rn__kernels.conv2d_backward_input(&g, dy->data, layer->params[0].value.data, dx->data);
        break;
    case RN_LAYER_LINEAR: rn__linear_backward(layer, x, dy, dx); break;
    case RN_LAYER_MAXPOOL2D:
    case RN_LAYER_AVGPOOL2D:
        if (dx != NULL) rn__pool(layer, x->shape[0], x->data, NULL, dy->data, dx->data);
        break;
    case RN_LAYER_FLATTEN:
        if (dx != NULL) memcpy(dx->data, dy->data, dy->size * sizeof(float));
        break;
    case RN_LAYER_ACTIVATION:
        if (dx != NULL) {
            rn__act_backward(layer, x, y, dy, dx->data);
        } else {
            /* The parameters still need their gradients: use a scratch dx. */
            rn_tensor scratch;
            memset(&scratch, 0, sizeof scratch);
            status = rn_tensor_resize(&scratch, x->ndim, x->shape);
            if (status != RN_OK) return status;
            rn__act_backward(layer, x, y, dy, scratch.data);
            rn_tensor_free(&scratch);
        }
        break;
    case RN_LAYER_BATCHNORM: rn__batchnorm_backward(layer, x, dy, dx ? dx->data : NULL); break;
    case RN_LAYER_DROPOUT: return dx != NULL ? rn__dropout_backward(layer, dy, dx->data) : RN_OK;
    }
    return RN_OK;
}

static void rn__fill_random(rn_tensor *tensor, rn_rng *rng, int normal, float scale)
{
    size_t i;
    for (i = 0; i < tensor->size; i++)
        tensor->data[i] = normal ? scale * rn_rng_normal(rng)
                                 : scale * (2.0f * rn_rng_uniform(rng) - 1.0f);
}

RN_API int rn_layer_init(rn_layer *layer, rn_init init, float slope, rn_rng *rng)
{
    rn_tensor *weight;
    float fan_in, fan_out, gain, receptive;
    int k;
    if (layer == NULL || rng == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_layer_init: NULL layer or generator");
    if (layer->type == RN_LAYER_ACTIVATION) {
        for (k = 0; k < layer->n_params; k++) rn_tensor_fill(&layer->params[k].value, layer->act_init[k]);
        return RN_OK;
    }
    if (layer->type == RN_LAYER_BATCHNORM) {
        rn_tensor_fill(&layer->params[0].value, 1.0f);
        rn_tensor_fill(&layer->params[1].value, 0.0f);
        rn_tensor_fill(&layer->running_mean, 0.0f);
        rn_tensor_fill(&layer->running_var, 1.0f);
        return RN_OK;
    }
    if (layer->type == RN_LAYER_DROPOUT) {
        rn_rng_seed(&layer->rng, rng->state, 0x64726f70ULL + (uint64_t)layer->index);
        return RN_OK;
    }
    if (layer->type != RN_LAYER_CONV2D && layer->type != RN_LAYER_LINEAR) return RN_OK;
    weight = &layer->params[0].value;
    receptive = (float)(weight->size / ((size_t)weight->shape[0] * (size_t)weight->shape[1]));
    fan_in = (float)weight->shape[1] * receptive;
    fan_out = (float)weight->shape[0] * receptive;
    gain = sqrtf(2.0f / (1.0f + slope * slope));
    switch (init) {
    case RN_INIT_TORCH_DEFAULT: rn__fill_random(weight, rng, 0, 1.0f / sqrtf(fan_in)); break;
    case RN_INIT_HE_NORMAL: rn__fill_random(weight, rng, 1, gain / sqrtf(fan_in)); break;
    case RN_INIT_HE_UNIFORM: rn__fill_random(weight, rng, 0, gain * sqrtf(3.0f / fan_in)); break;
    case RN_INIT_XAVIER_NORMAL: rn__fill_random(weight, rng, 1, sqrtf(2.0f / (fan_in + fan_out))); break;
    case RN_INIT_XAVIER_UNIFORM: rn__fill_random(weight, rng, 0, sqrtf(6.0f / (fan_in + fan_out))); break;
    default: return rn_set_error(RN_ERR_ARGUMENT, "rn_layer_init: unknown init %d", (int)init);
    }
    if (!layer->has_bias) return RN_OK;
    if (init == RN_INIT_TORCH_DEFAULT)
        rn__fill_random(&layer->params[1].value, rng, 0, 1.0f / sqrtf(fan_in));
    else
        rn_tensor_fill(&layer->params[1].value, 0.0f);
    return RN_OK;
}

/* ===== 9. network ========================================================= */

static const char *const rn__layer_type_names[] = {"conv", "linear", "maxpool", "avgpool",
                                                   "flatten", "act", "norm", "dropout"};

/* Frees what a layer owns: its parameters and its training state. */
static void rn__layer_free(rn_layer *layer)
{
    int k;
    for (k = 0; k < layer->n_params; k++) {
        rn_tensor_free(&layer->params[k].value);
        rn_tensor_free(&layer->params[k].grad);
    }
    layer->n_params = 0;
    rn_tensor_free(&layer->running_mean);
    rn_tensor_free(&layer->running_var);
    rn_tensor_free(&layer->used_mean);
    rn_tensor_free(&layer->used_inv_std);
    rn_tensor_free(&layer->mask);
}

/* Starts a layer that takes the network's current output as its input. */
static int rn__layer_begin(rn_net *net, rn_layer_type type, rn_layer *layer, const char *caller)
{
    int i, same_type = 1;
    if (net == NULL) return rn_set_error(RN_ERR_ARGUMENT, "%s: network is NULL", caller);
    memset(layer, 0, sizeof *layer);
    layer->type = type;
    layer->index = net->n_layers;
    if (net->n_layers == 0) {
        layer->in_ndim = net->in_ndim;
        memcpy(layer->in_shape, net->in_shape, sizeof layer->in_shape);
    } else {
        const rn_layer *previous = net->layers[net->n_layers - 1];
        layer->in_ndim = previous->out_ndim;
        memcpy(layer->in_shape, previous->out_shape, sizeof layer->in_shape);
    }
    for (i = 0; i < net->n_layers; i++) same_type += net->layers[i]->type == type;
    snprintf(layer->name, sizeof layer->name, "%s%d", rn__layer_type_names[type], same_type);
    return RN_OK;
}

static int rn__layer_add_param(rn_layer *layer, const char *short_name, rn_param_kind kind,
                               int ndim, const int *shape)
{
    int status = rn__param_new(&layer->params[layer->n_params], layer->name, short_name, kind,
                               layer->index, ndim, shape);
    if (status == RN_OK) layer->n_params++;
    return status;
}

/* Grows the network's arrays so that one more layer fits. */
static int rn__net_reserve(rn_net *net)
{
    int capacity = net->capacity ? 2 * net->capacity : 8, i;
    rn_layer **layers;
    rn_tensor *outputs, *grads;
    if (net->n_layers < net->capacity) return RN_OK;
    layers = (rn_layer **)rn__calloc((size_t)capacity, sizeof *layers);
    outputs = (rn_tensor *)rn__calloc((size_t)capacity, sizeof *outputs);
    grads = (rn_tensor *)rn__calloc((size_t)capacity + 1, sizeof *grads);
    if (layers == NULL || outputs == NULL || grads == NULL) {
        if (layers) RN_FREE(layers);
        if (outputs) RN_FREE(outputs);
        if (grads) RN_FREE(grads);
        return rn_set_error(RN_ERR_MEMORY, "rn_net: cannot grow to %d layers", capacity);
    }
    for (i = 0; i < net->n_layers; i++) {
        layers[i] = net->layers[i];
        outputs[i] = net->outputs[i];
    }
    for (i = 0; i <= net->n_layers && net->grads != NULL; i++) grads[i] = net->grads[i];
    if (net->layers) RN_FREE(net->layers);
    if (net->outputs) RN_FREE(net->outputs);
    if (net->grads) RN_FREE(net->grads);
    net->layers = layers;
    net->outputs = outputs;
    net->grads = grads;
    net->capacity = capacity;
    return RN_OK;
}

/* Takes ownership of a layer built on the stack: on failure its parameters
   are freed and the network is unchanged. New weights come from a seed fixed
   per position, so a network is reproducible before rn_net_init too. */
static int rn__net_append(rn_net *net, rn_layer *layer, int status)
{
    rn_layer *stored = NULL;
    rn_rng rng;
    if (status == RN_OK) status = rn__net_reserve(net);
    if (status == RN_OK) {
        stored = (rn_layer *)RN_MALLOC(sizeof *stored);
        if (stored == NULL) status = rn_set_error(RN_ERR_MEMORY, "rn_net: cannot allocate a layer");
    }
    if (status != RN_OK) {
        rn__layer_free(layer);
        return status;
    }
    rn_rng_seed(&rng, 0x72656c756e6574ULL, (uint64_t)layer->index);
    rn_layer_init(layer, RN_INIT_TORCH_DEFAULT, 0.0f, &rng);
    *stored = *layer;
    RN_ASSERT(net->n_layers < net->capacity);
    net->layers[net->n_layers++] = stored;
    net->input.data = NULL; /* a new layer invalidates the cached forward pass */
    return RN_OK;
}

RN_API rn_net *rn_net_new(int sample_ndim, const int *sample_shape)
{
    rn_net *net;
    size_t size;
    if (sample_ndim < 1 || sample_ndim > 3) {
        rn_set_error(RN_ERR_ARGUMENT, "rn_net_new: a sample has %d dimensions (need 1 to 3)",
                     sample_ndim);
        return NULL;
    }
    if (rn__shape_size(sample_ndim, sample_shape, &size, "rn_net_new") != RN_OK) return NULL;
    net = (rn_net *)rn__calloc(1, sizeof *net);
    if (net == NULL) {
        rn_set_error(RN_ERR_MEMORY, "rn_net_new: cannot allocate a network");
        return NULL;
    }
    net->in_ndim = sample_ndim;
    memcpy(net->in_shape, sample_shape, (size_t)sample_ndim * sizeof(int));
    return net;
}

RN_API void rn_net_free(rn_net *net)
{
    int i;
    if (net == NULL) return;
    for (i = 0; i < net->n_layers; i++) {
        rn__layer_free(net->layers[i]);
        RN_FREE(net->layers[i]);
        rn_tensor_free(&net->outputs[i]);
        rn_tensor_free(&net->grads[i]);
    }
    if (net->grads) rn_tensor_free(&net->grads[net->n_layers]);
    if (net->layers) RN_FREE(net->layers);
    if (net->outputs) RN_FREE(net->outputs);
    if (net->grads) RN_FREE(net->grads);
    RN_FREE(net);
}

/* conv2d and the pools need an image, (C, H, W), at their input. */
static int rn__check_image_input(const rn_layer *layer, const char *caller)
{
    char shape[64];
    if (layer->in_ndim == 3) return RN_OK;
    rn__dims_string(layer->in_ndim, layer->in_shape, shape, sizeof shape);
    return rn_set_error(RN_ERR_SHAPE, "%s: needs a (C, H, W) input, the previous layer gives %s",
                        caller, shape);
}

/* Output size of a sliding window, or 0 when the window does not fit. */
static int rn__window_output(int in_size, int kernel, int stride, int padding)
{
    if (in_size + 2 * padding < kernel) return 0;
    return (in_size + 2 * padding - kernel) / stride + 1;
}

/* Shared by conv2d and the pools: validates the window, sets the output shape. */
static int rn__layer_set_window(rn_layer *layer, int channels, int kernel, int stride, int padding,
                                const char *caller)
{
    int status = rn__check_image_input(layer, caller);
    if (status != RN_OK) return status;
    if (kernel < 1 || stride < 1 || padding < 0 || channels < 1)
        return rn_set_error(RN_ERR_ARGUMENT,
                            "%s: channels %d, kernel %d, stride %d, padding %d (need channels, "
                            "kernel, stride >= 1 and padding >= 0)",
                            caller, channels, kernel, stride, padding);
    layer->kernel = kernel;
    layer->stride = stride;
    layer->padding = padding;
    layer->out_ndim = 3;
    layer->out_shape[0] = channels;
    layer->out_shape[1] = rn__window_output(layer->in_shape[1], kernel, stride, padding);
    layer->out_shape[2] = rn__window_output(layer->in_shape[2], kernel, stride, padding);
    if (layer->out_shape[1] == 0 || layer->out_shape[2] == 0)
        return rn_set_error(RN_ERR_SHAPE, "%s: a %dx%d window (padding %d) does not fit a %dx%d input",
                            caller, kernel, kernel, padding, layer->in_shape[1], layer->in_shape[2]);
    return RN_OK;
}

RN_API int rn_net_add_conv2d(rn_net *net, int out_channels, int kernel, int stride, int padding)
{
    rn_layer layer;
    int status = rn__layer_begin(net, RN_LAYER_CONV2D, &layer, "rn_net_add_conv2d");
    if (status != RN_OK) return status;
    status = rn__layer_set_window(&layer, out_channels, kernel, stride, padding, "rn_net_add_conv2d");
    if (status == RN_OK) {
        int weight_shape[4];
        weight_shape[0] = out_channels;
        weight_shape[1] = layer.in_shape[0];
        weight_shape[2] = kernel;
        weight_shape[3] = kernel;
        layer.units = out_channels;
        layer.has_bias = 1;
        status = rn__layer_add_param(&layer, "weight", RN_PARAM_WEIGHT, 4, weight_shape);
    }
    if (status == RN_OK) status = rn__layer_add_param(&layer, "bias", RN_PARAM_BIAS, 1, &out_channels);
    return rn__net_append(net, &layer, status);
}

RN_API int rn_net_add_linear(rn_net *net, int out_features)
{
    rn_layer layer;
    int status = rn__layer_begin(net, RN_LAYER_LINEAR, &layer, "rn_net_add_linear");
    size_t in_features;
    if (status != RN_OK) return status;
    in_features = rn__dims_product(layer.in_ndim, layer.in_shape);
    if (out_features < 1 || out_features > RN_MAX_DIM_SIZE || in_features > RN_MAX_DIM_SIZE) {
        status = rn_set_error(RN_ERR_ARGUMENT, "rn_net_add_linear: %d outputs from %lu inputs",
                              out_features, (unsigned long)in_features);
    } else {
        int weight_shape[2];
        weight_shape[0] = out_features;
        weight_shape[1] = (int)in_features;
        layer.units = out_features;
        layer.has_bias = 1;
        layer.out_ndim = 1;
        layer.out_shape[0] = out_features;
        status = rn__layer_add_param(&layer, "weight", RN_PARAM_WEIGHT, 2, weight_shape);
    }
    if (status == RN_OK) status = rn__layer_add_param(&layer, "bias", RN_PARAM_BIAS, 1, &out_features);
    return rn__net_append(net, &layer, status);
}

static int rn__net_add_pool(rn_net *net, rn_layer_type type, int kernel, int stride,
                            const char *caller)
{
    rn_layer layer;
    int status = rn__layer_begin(net, type, &layer, caller);
    if (status != RN_OK) return status;
    status = rn__layer_set_window(&layer, layer.in_shape[0], kernel, stride, 0, caller);
    return rn__net_append(net, &layer, status);
}

RN_API int rn_net_add_maxpool2d(rn_net *net, int kernel, int stride)
{
    return rn__net_add_pool(net, RN_LAYER_MAXPOOL2D, kernel, stride, "rn_net_add_maxpool2d");
}

RN_API int rn_net_add_avgpool2d(rn_net *net, int kernel, int stride)
{
    return rn__net_add_pool(net, RN_LAYER_AVGPOOL2D, kernel, stride, "rn_net_add_avgpool2d");
}

RN_API int rn_net_add_flatten(rn_net *net)
{
    rn_layer layer;
    int status = rn__layer_begin(net, RN_LAYER_FLATTEN, &layer, "rn_net_add_flatten");
    if (status != RN_OK) return status;
    layer.out_ndim = 1;
    layer.out_shape[0] = (int)rn__dims_product(layer.in_ndim, layer.in_shape);
    return rn__net_append(net, &layer, RN_OK);
}

RN_API int rn_net_add_activation(rn_net *net, rn_act_kind kind)
{
    rn_act_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.kind = kind;
    return rn_net_add_activation_ex(net, &desc);
}

/* A desc is usable when its kind and sharing exist, its values are finite
   and normalised mixture weights do not sum to zero. */
static int rn__act_check_desc(const rn_act_desc *desc)
{
    const rn__act_info *info;
    double weight_sum = 0.0;
    int k;
    if (desc == NULL || (unsigned)desc->kind >= RN_ACT_KIND_COUNT ||
        (desc->share != RN_SHARE_LAYER && desc->share != RN_SHARE_CHANNEL))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_add_activation: unknown kind or sharing");
    info = &rn__act_table[desc->kind];
    if (!isfinite(desc->slope))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_add_activation: slope is %g",
                            (double)desc->slope);
    for (k = 0; desc->init != NULL && k < info->n_params; k++) {
        if (!isfinite(desc->init[k]))
            return rn_set_error(RN_ERR_ARGUMENT, "rn_net_add_activation: %s starts at %g",
                                info->param_names[k], (double)desc->init[k]);
        if (k < info->n_mix_weights) weight_sum += desc->init[k];
    }
    if (desc->init != NULL && info->n_mix_weights > 0 && !desc->unnormalized && weight_sum == 0.0)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_add_activation: the mixture weights sum to "
                            "0, so X, Y, Z are undefined");
    return RN_OK;
}

RN_API int rn_net_add_activation_ex(rn_net *net, const rn_act_desc *desc)
{
    rn_layer layer;
    const rn__act_info *info;
    int status = rn__layer_begin(net, RN_LAYER_ACTIVATION, &layer, "rn_net_add_activation");
    int groups, k;
    if (status == RN_OK) status = rn__act_check_desc(desc);
    if (status != RN_OK) return status;
    info = &rn__act_table[desc->kind];
    layer.act = *desc;
    layer.act.init = NULL; /* the values are copied: the caller's array may go */
    if (desc->kind == RN_ACT_LRELU && desc->slope == 0.0f)
        layer.act.slope = RN_ACT_LRELU_DEFAULT_SLOPE;
    layer.out_ndim = layer.in_ndim;
    memcpy(layer.out_shape, layer.in_shape, sizeof layer.out_shape);
    groups = desc->share == RN_SHARE_CHANNEL ? layer.in_shape[0] : 1;
    for (k = 0; k < info->n_params && status == RN_OK; k++) {
        layer.act_init[k] = desc->init ? desc->init[k] : info->defaults[k];
        status = rn__layer_add_param(&layer, info->param_names[k], RN_PARAM_ACTIVATION, 1, &groups);
        if (status == RN_OK) layer.params[k].frozen = desc->frozen;
    }
    return rn__net_append(net, &layer, status);
}

RN_API int rn_net_add_batchnorm(rn_net *net)
{
    return rn_net_add_batchnorm_ex(net, 1e-5f, 0.1f);
}

RN_API int rn_net_add_batchnorm_ex(rn_net *net, float eps, float momentum)
{
    rn_layer layer;
    int status = rn__layer_begin(net, RN_LAYER_BATCHNORM, &layer, "rn_net_add_batchnorm");
    int channels;
    if (status != RN_OK) return status;
    if (!(eps > 0.0f) || !(momentum >= 0.0f && momentum <= 1.0f))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_add_batchnorm: eps %g, momentum %g (need "
                            "eps > 0 and momentum in [0, 1])", (double)eps, (double)momentum);
    channels = layer.in_shape[0];
    layer.eps = eps;
    layer.momentum = momentum;
    layer.out_ndim = layer.in_ndim;
    memcpy(layer.out_shape, layer.in_shape, sizeof layer.out_shape);
    status = rn__layer_add_param(&layer, "scale", RN_PARAM_NORM, 1, &channels);
    if (status == RN_OK) status = rn__layer_add_param(&layer, "shift", RN_PARAM_NORM, 1, &channels);
    if (status == RN_OK) status = rn_tensor_new(&layer.running_mean, 1, &channels);
    if (status == RN_OK) status = rn_tensor_new(&layer.running_var, 1, &channels);
    if (status == RN_OK) status = rn_tensor_new(&layer.used_mean, 1, &channels);
    if (status == RN_OK) status = rn_tensor_new(&layer.used_inv_std, 1, &channels);
    return rn__net_append(net, &layer, status);
}

RN_API int rn_net_add_dropout(rn_net *net, float p)
{
    rn_layer layer;
    int status = rn__layer_begin(net, RN_LAYER_DROPOUT, &layer, "rn_net_add_dropout");
    if (status != RN_OK) return status;
    if (!(p >= 0.0f && p < 1.0f))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_add_dropout: p is %g (need 0 <= p < 1)",
                            (double)p);
    layer.drop_rate = p;
    layer.out_ndim = layer.in_ndim;
    memcpy(layer.out_shape, layer.in_shape, sizeof layer.out_shape);
    return rn__net_append(net, &layer, RN_OK);
}

RN_API int rn_net_remove_bias(rn_net *net)
{
    rn_layer *layer = NULL;
    int i;
    for (i = net ? net->n_layers - 1 : -1; i >= 0 && layer == NULL; i--)
        if (net->layers[i]->type == RN_LAYER_CONV2D || net->layers[i]->type == RN_LAYER_LINEAR)
            layer = net->layers[i];
    if (layer == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_remove_bias: no conv2d or linear layer");
    if (layer->has_bias) {
        rn_tensor_free(&layer->params[1].value);
        rn_tensor_free(&layer->params[1].grad);
        layer->n_params = 1;
        layer->has_bias = 0;
    }
    return RN_OK;
}

RN_API int rn_net_init(rn_net *net, rn_init init, float slope, uint64_t seed)
{
    rn_rng rng;
    int i, status = RN_OK;
    if (net == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_net_init: network is NULL");
    rn_rng_seed(&rng, seed, 0);
    for (i = 0; i < net->n_layers && status == RN_OK; i++)
        status = rn_layer_init(net->layers[i], init, slope, &rng);
    return status;
}

RN_API int rn_net_forward(rn_net *net, const rn_tensor *x, rn_mode mode)
{
    const rn_tensor *input = x;
    const rn_layer *last;
    int i, status;
    if (net == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_net_forward: network is NULL");
    if (net->n_layers == 0) return rn_set_error(RN_ERR_ARGUMENT, "rn_net_forward: no layers");
    net->input.data = NULL;
    status = rn__check_batch_shape(x, net->in_ndim, net->in_shape, "rn_net_forward", "input");
    for (i = 0; i < net->n_layers && status == RN_OK; i++) {
        status = rn_layer_forward(net->layers[i], input, &net->outputs[i], mode);
        input = &net->outputs[i];
    }
    last = net->layers[net->n_layers - 1];
    if (status == RN_OK)
        status = rn__resize_batch(&net->grads[net->n_layers], x->shape[0], last->out_ndim,
                                  last->out_shape);
    if (status != RN_OK) return status;
    net->input = rn_tensor_slice(x, 0, x->shape[0]);
    return RN_OK;
}

RN_API rn_tensor *rn_net_output(rn_net *net)
{
    return net != NULL && net->n_layers > 0 ? &net->outputs[net->n_layers - 1] : NULL;
}

RN_API rn_tensor *rn_net_output_grad(rn_net *net)
{
    return net != NULL && net->n_layers > 0 ? &net->grads[net->n_layers] : NULL;
}

RN_API rn_tensor *rn_net_input_grad(rn_net *net)
{
    return net != NULL && net->n_layers > 0 ? &net->grads[0] : NULL;
}

RN_API int rn_net_backward(rn_net *net)
{
    int i, status = RN_OK;
    if (net == NULL || net->n_layers == 0)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_backward: no network or no layers");
    if (net->input.data == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_backward: call rn_net_forward first");
    for (i = net->n_layers - 1; i >= 0 && status == RN_OK; i--) {
        const rn_tensor *x = i > 0 ? &net->outputs[i - 1] : &net->input;
        rn_tensor *dx = i > 0 || net->want_input_grad ? &net->grads[i] : NULL;
        status = rn_layer_backward(net->layers[i], x, &net->outputs[i], &net->grads[i + 1], dx);
    }
    return status;
}

RN_API void rn_net_zero_grad(rn_net *net)
{
    int i, k;
    for (i = 0; net != NULL && i < net->n_layers; i++)
        for (k = 0; k < net->layers[i]->n_params; k++)
            rn_tensor_fill(&net->layers[i]->params[k].grad, 0.0f);
}

RN_API void rn_net_summary(const rn_net *net, FILE *out)
{
    size_t total = 0, trainable = 0;
    char shape[64];
    int i, k;
    if (net == NULL || out == NULL) return;
    rn__dims_string(net->in_ndim, net->in_shape, shape, sizeof shape);
    fprintf(out, "%-12s %-10s %-20s %12s\n", "layer", "kind", "output shape", "parameters");
    fprintf(out, "%-12s %-10s %-20s %12s\n", "input", "", shape, "");
    for (i = 0; i < net->n_layers; i++) {
        const rn_layer *layer = net->layers[i];
        size_t count = 0;
        for (k = 0; k < layer->n_params; k++) {
            count += layer->params[k].value.size;
            if (!layer->params[k].frozen) trainable += layer->params[k].value.size;
        }
        total += count;
        rn__dims_string(layer->out_ndim, layer->out_shape, shape, sizeof shape);
        fprintf(out, "%-12s %-10s %-20s %12lu\n", layer->name,
                layer->type == RN_LAYER_ACTIVATION ? rn_act_kind_name(layer->act.kind)
                                                   : rn__layer_type_names[layer->type],
                shape, (unsigned long)count);
    }
    fprintf(out, "total parameters: %lu (trainable %lu)\n", (unsigned long)total,
            (unsigned long)trainable);
}

RN_API int rn_net_select(rn_net *net, rn_param_filter filter, rn_param **out, int max)
{
    int i, k, count = 0;
    for (i = 0; net != NULL && i < net->n_layers; i++)
        for (k = 0; k < net->layers[i]->n_params; k++) {
            rn_param *param = &net->layers[i]->params[k];
            if (!rn_param_matches(param, filter)) continue;
            if (out != NULL && count < max) out[count] = param;
            count++;
        }
    return count;
}

RN_API int rn_net_param_count(const rn_net *net)
{
    return rn_net_select((rn_net *)net, RN_PARAMS_ALL, NULL, 0);
}

RN_API rn_param *rn_net_param(rn_net *net, int index)
{
    int i;
    for (i = 0; net != NULL && index >= 0 && i < net->n_layers; i++) {
        if (index < net->layers[i]->n_params) return &net->layers[i]->params[index];
        index -= net->layers[i]->n_params;
    }
    return NULL;
}

RN_API void rn_net_set_frozen(rn_net *net, rn_param_filter filter, int frozen)
{
    int i, count = rn_net_param_count(net);
    for (i = 0; i < count; i++) {
        rn_param *param = rn_net_param(net, i);
        if (rn_param_matches(param, filter)) param->frozen = frozen;
    }
}

RN_API void rn_net_set_range(rn_net *net, rn_param_filter filter, float min, float max)
{
    int i, count = rn_net_param_count(net);
    for (i = 0; i < count; i++) {
        rn_param *param = rn_net_param(net, i);
        if (!rn_param_matches(param, filter)) continue;
        param->min = min;
        param->max = max;
    }
}

/* Visits every activation parameter value in rn_net_act_values order,
   storing the first max of them as records, as plain floats, or not at all. */
static int rn__net_act_collect(rn_net *net, rn_act_value *records, float *values, int max)
{
    int i, k, count = 0;
    size_t j;
    for (i = 0; net != NULL && i < net->n_layers; i++) {
        rn_layer *layer = net->layers[i];
        if (layer->type != RN_LAYER_ACTIVATION) continue;
        for (k = 0; k < layer->n_params; k++)
            for (j = 0; j < layer->params[k].value.size; j++, count++) {
                float value = layer->params[k].value.data[j];
                if (count >= max) continue;
                if (values != NULL) values[count] = value;
                if (records == NULL) continue;
                records[count].layer = i;
                records[count].layer_name = layer->name;
                records[count].name = rn__act_table[layer->act.kind].param_names[k];
                records[count].channel = (int)j;
                records[count].value = value;
            }
    }
    return count;
}

RN_API int rn_net_act_values(rn_net *net, rn_act_value *out, int max)
{
    return rn__net_act_collect(net, out, NULL, out != NULL ? max : 0);
}

RN_API int rn_act_recorder_add(rn_act_recorder *recorder, rn_net *net)
{
    int count = rn__net_act_collect(net, NULL, NULL, 0);
    size_t needed;
    if (recorder == NULL || net == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_act_recorder_add: NULL recorder or network");
    if (recorder->snapshots > 0 && count != recorder->count)
        return rn_set_error(RN_ERR_SHAPE, "rn_act_recorder_add: the network has %d activation "
                            "values, earlier snapshots %d", count, recorder->count);
    needed = (size_t)(recorder->snapshots + 1) * (size_t)count;
    if (needed > recorder->capacity) {
        size_t capacity = needed > 2 * recorder->capacity ? needed : 2 * recorder->capacity;
        float *values = (float *)rn__calloc(capacity, sizeof *values);
        if (values == NULL)
            return rn_set_error(RN_ERR_MEMORY, "rn_act_recorder_add: cannot grow to %lu values",
                                (unsigned long)capacity);
        if (recorder->values != NULL) {
            memcpy(values, recorder->values, (needed - (size_t)count) * sizeof *values);
            RN_FREE(recorder->values);
        }
        recorder->values = values;
        recorder->capacity = capacity;
    }
    rn__net_act_collect(net, NULL, recorder->values + (needed - (size_t)count), count);
    recorder->count = count;
    recorder->snapshots++;
    return RN_OK;
}

RN_API void rn_act_recorder_free(rn_act_recorder *recorder)
{
    if (recorder == NULL) return;
    if (recorder->values != NULL) RN_FREE(recorder->values);
    memset(recorder, 0, sizeof *recorder);
}

/* ===== 10. losses and penalties =========================================== */

/* Shared argument checks: a batch of rows, an optional gradient of the same
   size, and only finite values. */
static int rn__check_loss_input(const rn_tensor *input, const float *loss, const rn_tensor *grad,
                                const char *caller)
{
    size_t i;
    if (input == NULL || input->data == NULL || input->ndim < 1 || loss == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: NULL or empty input or loss", caller);
    if (grad != NULL && (grad->data == NULL || grad->size != input->size))
        return rn_set_error(RN_ERR_SHAPE, "%s: gradient has %lu elements, input %lu", caller,
                            grad ? (unsigned long)grad->size : 0UL, (unsigned long)input->size);
    for (i = 0; i < input->size; i++)
        if (!isfinite(input->data[i]))
            return rn_set_error(RN_ERR_NUMERIC, "%s: input element %lu is %g", caller,
                                (unsigned long)i, (double)input->data[i]);
    return RN_OK;
}

RN_API int rn_loss_cross_entropy(const rn_tensor *logits, const int *labels, float *loss,
                                 rn_tensor *grad)
{
    int status = rn__check_loss_input(logits, loss, grad, "rn_loss_cross_entropy");
    int batch, classes, n, j;
    double total = 0.0;
    if (status != RN_OK) return status;
    if (labels == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_loss_cross_entropy: labels is NULL");
    batch = logits->shape[0];
    classes = (int)(logits->size / (size_t)batch);
    for (n = 0; n < batch; n++)
        if (labels[n] < 0 || labels[n] >= classes)
            return rn_set_error(RN_ERR_ARGUMENT, "rn_loss_cross_entropy: label %d of sample %d is "
                                "outside [0, %d)", labels[n], n, classes);
    for (n = 0; n < batch; n++) {
        const float *row = logits->data + (size_t)n * classes;
        double largest = row[0], sum = 0.0;
        for (j = 1; j < classes; j++) largest = row[j] > largest ? row[j] : largest;
        for (j = 0; j < classes; j++) sum += exp(row[j] - largest);
        total += log(sum) + largest - row[labels[n]];
        if (grad == NULL) continue;
        for (j = 0; j < classes; j++) {
            double softmax = exp(row[j] - largest) / sum;
            grad->data[(size_t)n * classes + j] =
                (float)((softmax - (j == labels[n] ? 1.0 : 0.0)) / batch);
        }
    }
    *loss = (float)(total / batch);
    return RN_OK;
}

RN_API int rn_loss_bce_logits(const rn_tensor *logits, const float *targets, float *loss,
                              rn_tensor *grad)
{
    int status = rn__check_loss_input(logits, loss, grad, "rn_loss_bce_logits");
    double total = 0.0;
    size_t i;
    if (status != RN_OK) return status;
    if (targets == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_loss_bce_logits: targets is NULL");
    for (i = 0; i < logits->size; i++) {
        double z = logits->data[i], t = targets[i];
        /* max(z,0) - z t + log(1 + e^-|z|) never overflows */
        total += (z > 0 ? z : 0) - z * t + log1p(exp(-fabs(z)));
        if (grad != NULL) grad->data[i] = (float)((1.0 / (1.0 + exp(-z)) - t) / logits->size);
    }
    *loss = (float)(total / logits->size);
    return RN_OK;
}

RN_API int rn_loss_mse(const rn_tensor *prediction, const rn_tensor *target, float *loss,
                       rn_tensor *grad)
{
    int status = rn__check_loss_input(prediction, loss, grad, "rn_loss_mse");
    double total = 0.0;
    size_t i;
    if (status != RN_OK) return status;
    if (target == NULL || target->size != prediction->size)
        return rn_set_error(RN_ERR_SHAPE, "rn_loss_mse: target has %lu elements, prediction %lu",
                            target ? (unsigned long)target->size : 0UL,
                            (unsigned long)prediction->size);
    for (i = 0; i < prediction->size; i++) {
        double difference = (double)prediction->data[i] - target->data[i];
        total += difference * difference;
        if (grad != NULL) grad->data[i] = (float)(2.0 * difference / prediction->size);
    }
    *loss = (float)(total / prediction->size);
    return RN_OK;
}

RN_API double rn_net_penalty(rn_net *net, rn_param_filter filter, rn_penalty_kind kind,
                             float lambda)
{
    int i, count = rn_net_param_count(net);
    double sum = 0.0, norm, scale;
    size_t j;
    for (i = 0; i < count; i++) {
        rn_param *param = rn_net_param(net, i);
        if (!rn_param_matches(param, filter)) continue;
        for (j = 0; j < param->value.size; j++) {
            double v = param->value.data[j];
            sum += kind == RN_PENALTY_L1 ? fabs(v) : v * v;
        }
    }
    norm = kind == RN_PENALTY_L2_NORM ? sqrt(sum) : sum;
    /* d/dp of lambda*sqrt(S) is lambda*p/sqrt(S); of lambda*S it is 2*lambda*p. */
    scale = kind == RN_PENALTY_L2_NORM ? (norm > 0.0 ? lambda / norm : 0.0) : 2.0 * lambda;
    for (i = 0; i < count; i++) {
        rn_param *param = rn_net_param(net, i);
        if (!rn_param_matches(param, filter)) continue;
        for (j = 0; j < param->value.size; j++) {
            float v = param->value.data[j];
            float *g = &param->grad.data[j];
            if (kind != RN_PENALTY_L1) *g += (float)(scale * v);
            else if (v != 0.0f) *g += v > 0.0f ? lambda : -lambda;
            /* |p| has every slope in [-lambda, lambda] at 0: take the one
               that cancels most of the gradient so far, so that a value the
               data pulls on more weakly than lambda stays at exactly 0. */
            else *g -= *g > lambda ? lambda : *g < -lambda ? -lambda : *g;
        }
    }
    return lambda * norm;
}

/* ===== 11. optimizers ===================================================== */

struct rn_optim {
    rn_optim_desc desc;
    int count;
    rn_param **params;
    float *lr;           /* per parameter: groups may differ */
    float *weight_decay;
    rn_tensor *first;    /* SGD momentum, Adam first moment, Rprop previous gradient */
    rn_tensor *second;   /* Adam second moment, Rprop step sizes */
    long steps;
};

RN_API void rn_optim_free(rn_optim *opt)
{
    int i;
    if (opt == NULL) return;
    for (i = 0; i < opt->count; i++) {
        if (opt->first) rn_tensor_free(&opt->first[i]);
        if (opt->second) rn_tensor_free(&opt->second[i]);
    }
    if (opt->params) RN_FREE(opt->params);
    if (opt->lr) RN_FREE(opt->lr);
    if (opt->weight_decay) RN_FREE(opt->weight_decay);
    if (opt->first) RN_FREE(opt->first);
    if (opt->second) RN_FREE(opt->second);
    RN_FREE(opt);
}

static rn_optim_desc rn__optim_defaults(const rn_optim_desc *desc)
{
    rn_optim_desc d = *desc;
    if (d.lr == 0.0f) d.lr = d.kind == RN_ADAM || d.kind == RN_ADAMW ? 0.001f : 0.01f;
    if (d.beta1 == 0.0f) d.beta1 = 0.9f;
    if (d.beta2 == 0.0f) d.beta2 = 0.999f;
    if (d.eps == 0.0f) d.eps = 1e-8f;
    if (d.eta_minus == 0.0f) d.eta_minus = 0.5f;
    if (d.eta_plus == 0.0f) d.eta_plus = 1.2f;
    if (d.step_min == 0.0f) d.step_min = 1e-6f;
    if (d.step_max == 0.0f) d.step_max = 50.0f;
    return d;
}

RN_API rn_optim *rn_optim_new_params(rn_param *const *params, int count,
                                     const rn_optim_desc *desc)
{
    rn_optim *opt;
    int i, status = RN_OK;
    if ((params == NULL && count > 0) || count < 0 || desc == NULL ||
        (unsigned)desc->kind > RN_RPROP || desc->lr < 0.0f) {
        rn_set_error(RN_ERR_ARGUMENT, "rn_optim_new: NULL parameters or desc, %d parameters, "
                     "unknown kind or lr < 0", count);
        return NULL;
    }
    for (i = 0; i < count; i++)
        if (params[i] == NULL) {
            rn_set_error(RN_ERR_ARGUMENT, "rn_optim_new: parameter %d is NULL", i);
            return NULL;
        }
    opt = (rn_optim *)rn__calloc(1, sizeof *opt);
    if (opt == NULL) {
        rn_set_error(RN_ERR_MEMORY, "rn_optim_new: cannot allocate the optimizer");
        return NULL;
    }
    opt->desc = rn__optim_defaults(desc);
    opt->count = count;
    opt->params = (rn_param **)rn__calloc((size_t)count, sizeof *opt->params);
    opt->lr = (float *)rn__calloc((size_t)count, sizeof *opt->lr);
    opt->weight_decay = (float *)rn__calloc((size_t)count, sizeof *opt->weight_decay);
    opt->first = (rn_tensor *)rn__calloc((size_t)count, sizeof *opt->first);
    opt->second = (rn_tensor *)rn__calloc((size_t)count, sizeof *opt->second);
    if (!opt->params || !opt->lr || !opt->weight_decay || !opt->first || !opt->second)
        status = rn_set_error(RN_ERR_MEMORY, "rn_optim_new: cannot allocate state");
    for (i = 0; i < count && status == RN_OK; i++) {
        rn_param *param = params[i];
        opt->params[i] = param;
        opt->lr[i] = opt->desc.lr;
        opt->weight_decay[i] = opt->desc.weight_decay;
        status = rn_tensor_new(&opt->first[i], param->value.ndim, param->value.shape);
        if (status == RN_OK && opt->desc.kind != RN_SGD)
            status = rn_tensor_new(&opt->second[i], param->value.ndim, param->value.shape);
    }
    if (status != RN_OK) {
        rn_optim_free(opt);
        return NULL;
    }
    return opt;
}

RN_API rn_optim *rn_optim_new(rn_net *net, const rn_optim_desc *desc)
{
    rn_param **params;
    rn_optim *opt;
    int count = rn_net_param_count(net);
    if (net == NULL) {
        rn_set_error(RN_ERR_ARGUMENT, "rn_optim_new: network is NULL");
        return NULL;
    }
    params = (rn_param **)rn__calloc((size_t)count, sizeof *params);
    if (params == NULL) {
        rn_set_error(RN_ERR_MEMORY, "rn_optim_new: cannot list %d parameters", count);
        return NULL;
    }
    rn_net_select(net, RN_PARAMS_ALL, params, count);
    opt = rn_optim_new_params(params, count, desc);
    RN_FREE(params);
    return opt;
}

RN_API int rn_optim_set_group(rn_optim *opt, rn_param_filter filter, float lr, float weight_decay)
{
    int i;
    if (opt == NULL || lr < 0.0f)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_optim_set_group: NULL optimizer or lr < 0");
    for (i = 0; i < opt->count; i++)
        if (rn_param_matches(opt->params[i], filter)) {
            opt->lr[i] = lr;
            opt->weight_decay[i] = weight_decay;
        }
    return RN_OK;
}

RN_API void rn_optim_scale_lr(rn_optim *opt, float factor)
{
    int i;
    for (i = 0; opt != NULL && i < opt->count; i++) opt->lr[i] *= factor;
}

RN_API float rn_lr_step_decay(int epoch, const int *milestones, int count, float gamma)
{
    float factor = 1.0f;
    int i;
    for (i = 0; milestones != NULL && i < count; i++)
        if (milestones[i] == epoch) factor *= gamma;
    return factor;
}

/* torch.optim.SGD: d = g + wd p; b = d first, then mu b + (1 - dampening) d;
   step along d + mu b (Nesterov) or b. */
static void rn__sgd_update(rn_optim *opt, int i)
{
    const rn_optim_desc *d = &opt->desc;
    rn_param *param = opt->params[i];
    float *p = param->value.data, *b = opt->first[i].data;
    size_t j;
    for (j = 0; j < param->value.size; j++) {
        float g = param->grad.data[j] + opt->weight_decay[i] * p[j];
        if (d->momentum != 0.0f) {
            b[j] = opt->steps == 0 ? g : d->momentum * b[j] + (1.0f - d->dampening) * g;
            g = d->nesterov ? g + d->momentum * b[j] : b[j];
        }
        p[j] -= opt->lr[i] * g;
    }
}

/* torch.optim.Adam (L2 decay added to the gradient) and AdamW (decoupled
   decay applied to the weights), both with bias correction. */
static void rn__adam_update(rn_optim *opt, int i)
{
    const rn_optim_desc *d = &opt->desc;
    rn_param *param = opt->params[i];
    float *p = param->value.data, *m = opt->first[i].data, *v = opt->second[i].data;
    double t = (double)(opt->steps + 1);
    float correction1 = (float)(1.0 - pow(d->beta1, t));
    float sqrt_correction2 = (float)sqrt(1.0 - pow(d->beta2, t));
    float step = opt->lr[i] / correction1;
    int decoupled = d->kind == RN_ADAMW;
    size_t j;
    for (j = 0; j < param->value.size; j++) {
        float g = param->grad.data[j];
        if (decoupled) p[j] *= 1.0f - opt->lr[i] * opt->weight_decay[i];
        else g += opt->weight_decay[i] * p[j];
        m[j] = d->beta1 * m[j] + (1.0f - d->beta1) * g;
        v[j] = d->beta2 * v[j] + (1.0f - d->beta2) * g * g;
        p[j] -= step * m[j] / (sqrtf(v[j]) / sqrt_correction2 + d->eps);
    }
}

/* torch.optim.Rprop: the sign of g times the previous gradient picks the
   step size's factor (eta_plus, eta_minus, or 1 when either is 0); after a
   flip the gradient is stored and applied as 0. */
static void rn__rprop_update(rn_optim *opt, int i)
{
    const rn_optim_desc *d = &opt->desc;
    rn_param *param = opt->params[i];
    float *p = param->value.data, *previous = opt->first[i].data, *step = opt->second[i].data;
    size_t j;
    if (opt->steps == 0) rn_tensor_fill(&opt->second[i], opt->lr[i]);
    for (j = 0; j < param->value.size; j++) {
        float g = param->grad.data[j], agreement = g * previous[j];
        float size = step[j] * (agreement > 0.0f ? d->eta_plus : agreement < 0.0f ? d->eta_minus : 1.0f);
        step[j] = size < d->step_min ? d->step_min : size > d->step_max ? d->step_max : size;
        if (agreement < 0.0f) g = 0.0f;
        p[j] -= g > 0.0f ? step[j] : g < 0.0f ? -step[j] : 0.0f;
        previous[j] = g;
    }
}

static void rn__project(rn_param *param)
{
    size_t j;
    if (param->min == -INFINITY && param->max == INFINITY) return;
    for (j = 0; j < param->value.size; j++) {
        float v = param->value.data[j];
        param->value.data[j] = v < param->min ? param->min : v > param->max ? param->max : v;
    }
}

RN_API int rn_optim_step(rn_optim *opt)
{
    int i;
    size_t j;
    if (opt == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_optim_step: optimizer is NULL");
    for (i = 0; i < opt->count; i++) {
        const rn_param *param = opt->params[i];
        for (j = 0; !param->frozen && j < param->grad.size; j++)
            if (!isfinite(param->grad.data[j]))
                return rn_set_error(RN_ERR_NUMERIC, "rn_optim_step: gradient of %s[%lu] is %g; "
                                    "no parameter was changed", param->name, (unsigned long)j,
                                    (double)param->grad.data[j]);
    }
    for (i = 0; i < opt->count; i++) {
        if (opt->params[i]->frozen) continue;
        if (opt->desc.kind == RN_SGD) rn__sgd_update(opt, i);
        else if (opt->desc.kind == RN_RPROP) rn__rprop_update(opt, i);
        else rn__adam_update(opt, i);
        rn__project(opt->params[i]);
    }
    opt->steps++;
    return RN_OK;
}

/* ===== 12. metrics ======================================================== */

static int rn__argmax(const float *row, int count)
{
    int best = 0, j;
    for (j = 1; j < count; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

static int rn__check_metric_input(const rn_tensor *logits, const int *labels, const char *caller)
{
    if (logits == NULL || logits->data == NULL || logits->ndim < 1 || labels == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: NULL or empty logits or labels", caller);
    return RN_OK;
}

RN_API double rn_topk_error(const rn_tensor *logits, const int *labels, int k)
{
    int batch, classes, n, j, wrong = 0;
    if (rn__check_metric_input(logits, labels, "rn_topk_error") != RN_OK || k < 1) return NAN;
    batch = logits->shape[0];
    classes = (int)(logits->size / (size_t)batch);
    for (n = 0; n < batch; n++) {
        const float *row = logits->data + (size_t)n * classes;
        int above = 0;
        if (labels[n] < 0 || labels[n] >= classes) {
            wrong++;
            continue;
        }
        /* The label is in the top k when fewer than k logits beat it (ties
           before it count as beating it, as a stable sort would place them). */
        for (j = 0; j < classes; j++)
            above += row[j] > row[labels[n]] || (row[j] == row[labels[n]] && j < labels[n]);
        wrong += above >= k;
    }
    return (double)wrong / batch;
}

RN_API double rn_accuracy(const rn_tensor *logits, const int *labels)
{
    return 1.0 - rn_topk_error(logits, labels, 1);
}

RN_API int rn_confusion_add(int *matrix, int n_classes, const rn_tensor *logits, const int *labels)
{
    int status = rn__check_metric_input(logits, labels, "rn_confusion_add"), batch, n;
    if (status != RN_OK) return status;
    batch = logits->shape[0];
    if (matrix == NULL || n_classes < 1 || (size_t)n_classes * (size_t)batch != logits->size)
        return rn_set_error(RN_ERR_SHAPE, "rn_confusion_add: %d classes do not fit logits of %lu "
                            "values for %d samples", n_classes, (unsigned long)logits->size, batch);
    for (n = 0; n < batch; n++) {
        if (labels[n] < 0 || labels[n] >= n_classes)
            return rn_set_error(RN_ERR_ARGUMENT, "rn_confusion_add: label %d outside [0, %d)",
                                labels[n], n_classes);
    }
    for (n = 0; n < batch; n++)
        matrix[labels[n] * n_classes + rn__argmax(logits->data + (size_t)n * n_classes, n_classes)]++;
    return RN_OK;
}

/* Mean over classes of diagonal / (row or column sum). */
static double rn__macro_ratio(const int *matrix, int n_classes, int by_column)
{
    double total = 0.0;
    int c, j;
    if (matrix == NULL || n_classes < 1) return NAN;
    for (c = 0; c < n_classes; c++) {
        long sum = 0;
        for (j = 0; j < n_classes; j++)
            sum += by_column ? matrix[j * n_classes + c] : matrix[c * n_classes + j];
        if (sum > 0) total += (double)matrix[c * n_classes + c] / (double)sum;
    }
    return total / n_classes;
}

RN_API double rn_macro_precision(const int *matrix, int n_classes)
{
    return rn__macro_ratio(matrix, n_classes, 1);
}

RN_API double rn_macro_recall(const int *matrix, int n_classes)
{
    return rn__macro_ratio(matrix, n_classes, 0);
}


/* ===== 13. relaxed activation identity (RAI) training ===================== */

struct rn_rai {
    rn_net *net;
    int n_aux;             /* L, the number of linear layers */
    int *aux_layer;        /* aux_layer[t]: index in net of the linear layer aux[t] stands for */
    rn_param *aux;         /* aux[t]: Z_{t+1}, n x d */
    float *hidden_weights; /* w_{t+1} */
    rn_optim *optim;
    rn_tensor x;           /* copies of the training data */
    float *targets;
    int *labels;
    int resync_every;
    long steps;
};

RN_API void rn_rai_free(rn_rai *rai)
{
    int t;
    if (rai == NULL) return;
    for (t = 0; rai->aux != NULL && t < rai->n_aux; t++) {
        rn_tensor_free(&rai->aux[t].value);
        rn_tensor_free(&rai->aux[t].grad);
    }
    rn_optim_free(rai->optim);
    rn_tensor_free(&rai->x);
    if (rai->aux_layer) RN_FREE(rai->aux_layer);
    if (rai->aux) RN_FREE(rai->aux);
    if (rai->hidden_weights) RN_FREE(rai->hidden_weights);
    if (rai->targets) RN_FREE(rai->targets);
    if (rai->labels) RN_FREE(rai->labels);
    RN_FREE(rai);
}

/* RAI needs a chain of linear layers with activations between them, ending
   in a linear layer whose output the loss reads as logits. */
static int rn__rai_check_net(const rn_net *net)
{
    int i;
    if (net == NULL || net->n_layers == 0)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_rai_new: no network or no layers");
    for (i = 0; i < net->n_layers; i++)
        if (net->layers[i]->type != RN_LAYER_LINEAR && net->layers[i]->type != RN_LAYER_ACTIVATION)
            return rn_set_error(RN_ERR_ARGUMENT, "rn_rai_new: layer %s is neither linear nor an "
                                "activation", net->layers[i]->name);
    if (net->layers[net->n_layers - 1]->type != RN_LAYER_LINEAR)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_rai_new: the last layer, %s, must be linear (its "
                            "output is the logits)", net->layers[net->n_layers - 1]->name);
    return RN_OK;
}

/* Copies the targets or labels, whichever was given. */
static int rn__rai_copy_targets(rn_rai *rai, const float *targets, const int *labels)
{
    int n = rai->x.shape[0], classes = rai->net->layers[rai->net->n_layers - 1]->units, i;
    if ((targets == NULL) == (labels == NULL))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_rai_new: give exactly one of targets and labels");
    if (labels != NULL) {
        for (i = 0; i < n; i++)
            if (labels[i] < 0 || labels[i] >= classes)
                return rn_set_error(RN_ERR_ARGUMENT, "rn_rai_new: label %d of example %d is "
                                    "outside [0, %d)", labels[i], i, classes);
        rai->labels = (int *)rn__calloc((size_t)n, sizeof *labels);
        if (rai->labels == NULL) return rn_set_error(RN_ERR_MEMORY, "rn_rai_new: no memory");
        memcpy(rai->labels, labels, (size_t)n * sizeof *labels);
    } else {
        rai->targets = (float *)rn__calloc((size_t)n * classes, sizeof *targets);
        if (rai->targets == NULL) return rn_set_error(RN_ERR_MEMORY, "rn_rai_new: no memory");
        memcpy(rai->targets, targets, (size_t)n * classes * sizeof *targets);
    }
    return RN_OK;
}

/* One auxiliary per linear layer, shaped like that layer's output on x. */
static int rn__rai_make_aux(rn_rai *rai, const float *hidden_weights)
{
    rn_net *net = rai->net;
    int i, t = 0, status = RN_OK;
    for (i = 0; i < net->n_layers; i++) rai->n_aux += net->layers[i]->type == RN_LAYER_LINEAR;
    rai->aux_layer = (int *)rn__calloc((size_t)rai->n_aux, sizeof *rai->aux_layer);
    rai->aux = (rn_param *)rn__calloc((size_t)rai->n_aux, sizeof *rai->aux);
    rai->hidden_weights = (float *)rn__calloc((size_t)rai->n_aux, sizeof *rai->hidden_weights);
    if (!rai->aux_layer || !rai->aux || !rai->hidden_weights)
        return rn_set_error(RN_ERR_MEMORY, "rn_rai_new: cannot allocate %d auxiliaries", rai->n_aux);
    for (i = 0; i < net->n_layers && status == RN_OK; i++) {
        const rn_layer *layer = net->layers[i];
        int shape[2];
        if (layer->type != RN_LAYER_LINEAR) continue;
        shape[0] = rai->x.shape[0];
        shape[1] = layer->units;
        rai->aux_layer[t] = i;
        rai->hidden_weights[t] = hidden_weights ? hidden_weights[t] : 1.0f;
        status = rn__param_new(&rai->aux[t], layer->name, "z", RN_PARAM_AUXILIARY, i, 2, shape);
        t++;
    }
    return status;
}

/* The optimizer sees the network's parameters, then every Z. */
static int rn__rai_make_optim(rn_rai *rai, const rn_optim_desc *desc)
{
    int count = rn_net_param_count(rai->net), t;
    rn_param **params = (rn_param **)rn__calloc((size_t)count + rai->n_aux, sizeof *params);
    if (params == NULL) return rn_set_error(RN_ERR_MEMORY, "rn_rai_new: no memory");
    rn_net_select(rai->net, RN_PARAMS_ALL, params, count);
    for (t = 0; t < rai->n_aux; t++) params[count + t] = &rai->aux[t];
    rai->optim = rn_optim_new_params(params, count + rai->n_aux, desc);
    RN_FREE(params);
    return rai->optim != NULL ? RN_OK : RN_ERR_ARGUMENT;
}

RN_API rn_rai *rn_rai_new(rn_net *net, const rn_tensor *x, const float *targets,
                          const int *labels, const rn_rai_desc *desc)
{
    rn_rai_desc zero;
    rn_rai *rai;
    int status = rn__rai_check_net(net);
    if (status == RN_OK)
        status = rn__check_batch_shape(x, net->in_ndim, net->in_shape, "rn_rai_new", "x");
    if (status != RN_OK) return NULL;
    if (desc == NULL) {
        memset(&zero, 0, sizeof zero);
        desc = &zero;
    }
    if (desc->resync_every < 0) {
        rn_set_error(RN_ERR_ARGUMENT, "rn_rai_new: resync_every is %d (need >= 0)",
                     desc->resync_every);
        return NULL;
    }
    rai = (rn_rai *)rn__calloc(1, sizeof *rai);
    if (rai == NULL) {
        rn_set_error(RN_ERR_MEMORY, "rn_rai_new: cannot allocate");
        return NULL;
    }
    rai->net = net;
    rai->resync_every = desc->resync_every;
    status = rn_tensor_new(&rai->x, x->ndim, x->shape);
    if (status == RN_OK) status = rn_tensor_copy(&rai->x, x);
    if (status == RN_OK) status = rn__rai_copy_targets(rai, targets, labels);
    if (status == RN_OK) status = rn__rai_make_aux(rai, desc->hidden_weights);
    if (status == RN_OK) status = rn__rai_make_optim(rai, &desc->optim);
    if (status == RN_OK) status = rn_rai_resync(rai);
    if (status != RN_OK) {
        rn_rai_free(rai);
        return NULL;
    }
    return rai;
}

RN_API int rn_rai_resync(rn_rai *rai)
{
    int t, status;
    if (rai == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_rai_resync: rai is NULL");
    status = rn_net_forward(rai->net, &rai->x, RN_TRAIN);
    for (t = 0; t < rai->n_aux && status == RN_OK; t++)
        status = rn_tensor_copy(&rai->aux[t].value, &rai->net->outputs[rai->aux_layer[t]]);
    return status;
}

/* L_y on Z_L; its gradient goes straight into Z_L's. */
static int rn__rai_output_loss(rn_rai *rai, double *loss)
{
    rn_param *z = &rai->aux[rai->n_aux - 1];
    float value;
    int status = rai->labels != NULL
                     ? rn_loss_cross_entropy(&z->value, rai->labels, &value, &z->grad)
                     : rn_loss_bce_logits(&z->value, rai->targets, &value, &z->grad);
    *loss = value;
    return status;
}

/* Segment t is the layers after the linear layer of Z_t up to and including
   the linear layer of Z_{t+1} (0-based: aux[t]). It runs forward from its
   input, Z_t (x for the first), in the network's own buffers; w L_h compares
   its prediction with Z_{t+1}; and back-propagation through the segment
   alone gives the gradients of its parameters and of its input. */
static int rn__rai_segment(rn_rai *rai, int t, double *loss)
{
    rn_net *net = rai->net;
    int first = t == 0 ? 0 : rai->aux_layer[t - 1] + 1, last = rai->aux_layer[t], i;
    const rn_tensor *input = t == 0 ? &rai->x : &rai->aux[t - 1].value;
    rn_tensor *prediction = &net->outputs[last], *dprediction = &net->grads[last + 1];
    rn_param *z = &rai->aux[t];
    float weight = rai->hidden_weights[t], value;
    int status = RN_OK;
    size_t j;
    for (i = first; i <= last && status == RN_OK; i++)
        status = rn_layer_forward(net->layers[i], i == first ? input : &net->outputs[i - 1],
                                  &net->outputs[i], RN_TRAIN);
    if (status == RN_OK) status = rn_tensor_resize(dprediction, prediction->ndim, prediction->shape);
    if (status == RN_OK) status = rn_loss_mse(prediction, &z->value, &value, dprediction);
    if (status != RN_OK) return status;
    *loss = (double)weight * value;
    /* L_h is symmetric in Z and Zhat: d/dZ is minus d/dZhat. */
    for (j = 0; j < dprediction->size; j++) {
        dprediction->data[j] *= weight;
        z->grad.data[j] -= dprediction->data[j];
    }
    for (i = last; i >= first && status == RN_OK; i--)
        status = rn_layer_backward(net->layers[i], i == first ? input : &net->outputs[i - 1],
                                   &net->outputs[i], &net->grads[i + 1],
                                   i > first || t > 0 ? &net->grads[i] : NULL);
    for (j = 0; t > 0 && status == RN_OK && j < input->size; j++)
        rai->aux[t - 1].grad.data[j] += net->grads[first].data[j];
    return status;
}

RN_API int rn_rai_loss(rn_rai *rai, rn_rai_losses *losses)
{
    rn_rai_losses sum;
    int t, status;
    if (rai == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_rai_loss: rai is NULL");
    rai->net->input.data = NULL; /* the segments overwrite the cached forward pass */
    rn_net_zero_grad(rai->net);
    for (t = 0; t < rai->n_aux; t++) rn_tensor_fill(&rai->aux[t].grad, 0.0f);
    memset(&sum, 0, sizeof sum);
    status = rn__rai_output_loss(rai, &sum.output);
    for (t = 0; t < rai->n_aux && status == RN_OK; t++) {
        double hidden;
        status = rn__rai_segment(rai, t, &hidden);
        sum.hidden += hidden;
    }
    sum.total = sum.output + sum.hidden;
    if (status == RN_OK && losses != NULL) *losses = sum;
    return status;
}

RN_API int rn_rai_step(rn_rai *rai, rn_rai_losses *losses)
{
    int status = rn_rai_loss(rai, losses);
    if (status == RN_OK) status = rn_optim_step(rai->optim);
    if (status != RN_OK) return status;
    rai->steps++;
    if (rai->resync_every > 0 && rai->steps % rai->resync_every == 0) status = rn_rai_resync(rai);
    return status;
}

RN_API rn_param *rn_rai_aux(rn_rai *rai, int index)
{
    return rai != NULL && index >= 0 && index < rai->n_aux ? &rai->aux[index] : NULL;
}

RN_API rn_optim *rn_rai_optim(rn_rai *rai) { return rai != NULL ? rai->optim : NULL; }

#endif /* RELUNET_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
MIT License

Copyright (c) 2026 the relunet developers

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
*/
