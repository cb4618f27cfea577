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

C++
   The headers compile as C++11 and later, and the implementation can be
   compiled as C or as C++ (tests/test_cxx.cpp links against both). ISO C++
   has no compound literals, nor designated initializers before C++20, so
   the quick start's arguments become named variables there:

       int sample[] = {1, 28, 28};
       rn_net *net = rn_net_new(3, sample);
       rn_optim_desc desc = {};        // every field zero: the defaults
       desc.kind = RN_SGD;
       desc.lr = 0.01f;
       rn_optim *opt = rn_optim_new(net, &desc);

   The RN_PARAMS_* selections are written the same in both languages.

CONFIGURATION (define before including)
   RELUNET_STATIC         give every function static linkage (private copy per file)
   RN_MALLOC(size)        allocator; define RN_MALLOC and RN_FREE together
   RN_FREE(pointer)
   RN_ASSERT(condition)   internal invariant checks (default: assert)
   RELUNET_NO_SIMD        build the scalar kernels only
   RELUNET_NO_ERROR_STRINGS  rn_last_error() names only the status, and no
                          printf-family function is linked (microcontrollers;
                          define NDEBUG too, or assert links fiprintf)
   RELUNET_NO_THREAD_LOCAL  one error message for all threads, for targets
                          without thread-local storage (Cortex-M: automatic)

VERSION
   0.1.0: RELUNET_VERSION_MAJOR, _MINOR, _PATCH and RELUNET_VERSION_STRING
   are the header's; rn_version() returns the linked implementation's.
   `make install PREFIX=...` installs the headers with a pkg-config file
   (relunet.pc) and a CMake package (find_package(relunet), target
   relunet::relunet); CMakeLists.txt also works through add_subdirectory and
   FetchContent.

SPEED
   Kernels for SSE2, AVX2+FMA, AVX-512 and NEON are compiled into every
   binary a GCC or Clang build makes (no -march needed) and the best the CPU
   has is used; RELUNET_ISA=scalar|sse2|avx2|avx512|neon overrides. Build
   with -fopenmp to spread batches and matrix tiles over threads
   (rn_set_threads); results are bit-identical for every thread count.
   A network keeps the kernels' scratch memory between passes: once it has
   trained a step of the largest batch it sees, on as many threads, a
   training step (forward, loss, backward, optimizer step) calls RN_MALLOC
   no more.
   The threads are relunet's own (POSIX or Win32), started at first use;
   idle, they sleep, and work is handed out in small chunks, so a core
   that another process keeps busy slows training down gracefully.

ERRORS
   Functions that can fail return an int status: RN_OK (0) or an RN_ERR_* code.
   rn_status_string(status) names the code; rn_last_error() says what was wrong
   (which function, which shape or value). Functions that return a pointer
   return NULL on failure and set the same message. Bad input never aborts.
   Each thread has its own message (thread-local storage: C11, C++11, GCC,
   Clang, MSVC), so networks trained in separate threads keep their errors
   apart. A compiler without thread-local storage (tcc), a Cortex-M and a
   build with RELUNET_NO_THREAD_LOCAL defined share one buffer, and their
   implementation defines RN_THREAD_LOCAL_MISSING.

API GROUPS
   version       rn_version RELUNET_VERSION_STRING
   status        rn_status_string rn_last_error rn_set_error
   random        rn_rng_seed rn_rng_u32 rn_rng_below rn_rng_uniform rn_rng_normal
   tensors       rn_tensor_new rn_tensor_resize rn_tensor_view rn_tensor_slice
                 rn_tensor_free rn_tensor_fill rn_tensor_copy rn_tensor_reshape
                 rn_tensor_shape_string
   kernels       rn_isa_name rn_set_isa rn_set_threads rn_threads
   layers        rn_net_add_conv2d rn_net_add_linear rn_net_add_maxpool2d
                 rn_net_add_avgpool2d rn_net_add_flatten rn_net_add_activation(_ex)
                 rn_net_add_batchnorm(_ex) rn_net_add_dropout rn_net_remove_bias
                 rn_layer_forward rn_layer_backward rn_layer_init
   activations   rn_act_kind_name rn_act_param_count rn_act_param_name
                 rn_net_act_values rn_act_recorder_add rn_act_recorder_free
   losses        rn_loss_cross_entropy rn_loss_bce_logits rn_loss_mse
   penalties     rn_net_penalty (L1, squared L2, L2 norm) on a parameter selection
   network       rn_net_new rn_net_free rn_net_init rn_net_forward rn_net_backward
                 rn_net_zero_grad rn_net_output rn_net_layer_output rn_net_output_grad
                 rn_net_input_grad
                 rn_net_summary rn_net_param_count rn_net_param rn_net_select
                 rn_net_set_frozen rn_net_set_range rn_param_matches
   optimizers    rn_optim_new rn_optim_new_params rn_optim_set_group rn_optim_step
                 rn_optim_scale_lr rn_optim_free rn_lr_step_decay
   metrics       rn_accuracy rn_confusion_add rn_macro_precision rn_macro_recall
                 rn_topk_error
   model files   rn_net_save rn_net_load rn_net_save_memory rn_net_load_memory
                 rn_optim_save rn_optim_load rn_optim_save_memory
                 rn_optim_load_memory rn_crc32
   firmware      rn_net_export_c rn_net_fold_batchnorm rn_arena_init rn_arena_alloc
                 rn_net_new_arena rn_net_bind_params rn_net_bind_params_checked
                 rn_net_arena_input rn_net_arena_bytes RN_NET_ARENA_BYTES
   int8          rn_net_quantize rn_qnet_forward rn_qnet_forward_float rn_qnet_free
                 rn_qnet_check rn_qnet_crc32 rn_qnet_export_c rn_qlayer_forward rn_qparams_from_range rn_quantize_value
                 rn_dequantize_value rn_quantize_multiplier rn_qmultiplier_apply
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

MODEL FILES
   rn_net_save writes one binary file, little-endian whatever the host: a u32
   is 4 bytes, least significant first; an f32 is the u32 of a float's
   IEEE-754 bits (so values come back bit-exact); a list is a u32 count and
   then its items.

       bytes  field
       4      magic "RNET" (a network) or "ROPT" (optimizer state)
       4      u32 format version, RN_FILE_VERSION; a newer one is refused
       4      u32 body size B
       B      body
       4      u32 CRC-32 (rn_crc32) of every byte before it

   A network's body: the sample shape (list of u32), the layer count (u32),
   and for each layer
       u32          type (rn_layer_type)
       list of u32  its integer settings, the arguments of its rn_net_add_*:
                    conv2d [out_channels, kernel, stride, padding, has_bias],
                    linear [out_features, has_bias], max/avg pool [kernel,
                    stride], flatten [], activation [kind (rn_act_kind),
                    share, frozen, unnormalized], batch norm [], dropout []
       list of f32  its float settings: activation [slope, then the initial
                    value of each parameter in the kind's order], batch norm
                    [eps, momentum], dropout [p], others []
       u32          its parameter count, then for each parameter (in
                    rn_net_param order): u32 frozen, f32 min and f32 max (the
                    projection range), list of f32 values
       u32          its state buffer count, then each buffer: batch norm
                    has two lists of f32 (running mean, running variance,
                    one value per channel; a variance is never negative);
                    dropout (format 2 on) has its random stream, a list of
                    four u32: the PCG32 state and increment, low halves
                    first (so a resumed run drops the same values); every
                    other layer has none
   Loading rebuilds each layer with the call its settings name and checks
   every count against that layer and against the bytes left, so an
   activation kind added to the table needs no change of format.

   Optimizer state's body: list of u32 [kind, nesterov]; list of f32 [lr,
   momentum, dampening, weight_decay, beta1, beta2, eps]; the step count as
   two u32 (low half first); the parameter count (u32), then per parameter
   f32 learning rate, f32 weight decay, u32 the number of steps that updated
   it (its state starts at its first update; format 1 had no such count and
   is read as if every step had updated every parameter) and a list of state
   tensors, each a list of f32 (SGD: the momentum buffer; Adam/AdamW: both
   moments; Rprop: the previous gradient and the step sizes).

HEAP-FREE INFERENCE
   For a microcontroller: rn_net_export_c writes a header with the weights as
   const arrays and a builder; the network lives in a buffer you size at
   compile time with the header's NAME_ARENA_BYTES(max_batch). Built with
   RELUNET_NO_SIMD (as a firmware build is), a forward pass allocates
   nothing (see "heap-free inference" in section 13); the SIMD matrix
   products take scratch memory from RN_MALLOC on every call. A batch norm
   right after a convolution or linear layer is folded into it on export
   (rn_net_fold_batchnorm); any other runs in the arena in eval mode.

INT8 QUANTISATION
   rn_net_quantize(net, &calibration_inputs, &qnet) makes an int8 copy of a
   trained network in TFLite's and CMSIS-NN's scheme: weights symmetric per
   output channel, activations asymmetric per tensor (ranges measured on the
   calibration inputs), int32 biases, Q31 multipliers and shifts with
   gemmlowp's rounding. Supported: conv2d, linear, max and average pool,
   flatten, dropout, batch norm right after conv2d or linear (folded), and
   the activations identity, relu, lrelu, prelu and relu_alpha (shared or
   per channel), whose slopes get a requantisation path of their own
   instead of an int8 value. Sigmoid, tanh, the adaptive kinds and other
   batch norms are refused with RN_ERR_UNSUPPORTED. rn_qnet_forward runs
   int8 in and out without allocating; rn_qnet_forward_float takes and
   returns floats. rn_qnet_export_c writes the int8 network as a C header
   for a microcontroller (rn_qnet_check refuses a damaged one). Details in
   section 13.

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

/* The header's version; rn_version() gives the implementation's, which can
   differ when a program links a relunet compiled elsewhere. */
#define RELUNET_VERSION_MAJOR 0
#define RELUNET_VERSION_MINOR 1
#define RELUNET_VERSION_PATCH 0
#define RELUNET_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

RN_API const char *rn_version(void);

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
   contents are unspecified afterwards. Works on empty and owning tensors,
   and on views when the number of elements stays the same. */
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
/* A new owning tensor with source's shape and values (a view becomes a copy). */
RN_API int rn_tensor_clone(rn_tensor *clone, const rn_tensor *source);
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

/* C builds a selection with a compound literal; ISO C++ has none, so there
   the same macros call an inline constructor (as sokol_gfx.h does). */
#ifdef __cplusplus
inline rn_param_filter rn__param_filter(unsigned kinds, int layer, const char *name)
{
    rn_param_filter filter;
    filter.kinds = kinds;
    filter.layer = layer;
    filter.name = name;
    return filter;
}
#define RN__PARAM_FILTER(kinds, layer, name) rn__param_filter(kinds, layer, name)
#else
#define RN__PARAM_FILTER(kinds, layer, name) ((rn_param_filter){kinds, layer, name})
#endif
#define RN_PARAMS_ALL RN__PARAM_FILTER(0u, -1, NULL)
#define RN_PARAMS_OF_KIND(kind) RN__PARAM_FILTER(1u << (kind), -1, NULL)
#define RN_PARAMS_OF_LAYER(index) RN__PARAM_FILTER(0u, (index), NULL)
#define RN_PARAMS_NAMED(short_name) RN__PARAM_FILTER(0u, -1, (short_name))

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
    rn_param *params;         /* n_params of them, stored right after the layer */
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

typedef struct rn_arena rn_arena; /* section 13: memory for heap-free inference */

/* Scratch memory for the kernels of a network's passes (packed matrix
   panels, padded images, partial gradients): one stack for each thread the
   kernels run on. A pass takes blocks and gives them back; a block that
   does not fit is allocated for that once, and at the end of the pass
   every stack grows to the most any of them was asked to hold, so later
   passes of that batch size or a smaller one allocate nothing, whichever
   thread runs which chunk. */
typedef struct rn_workspace_stack {
    unsigned char *memory;
    size_t size;
    size_t used; /* of memory, by blocks not yet given back */
    size_t live; /* bytes taken and not given back, those that did not fit too */
    size_t most; /* the most live ever was: the size to grow to */
} rn_workspace_stack;

typedef struct rn_workspace {
    rn_workspace_stack *stacks; /* stacks[i]: thread i's */
    int count;
} rn_workspace;

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
    int (*make_params)(rn_layer *layer, rn_rng *rng); /* gives a new layer's parameters
                              storage and first values; NULL: they are bound later
                              (loading, arenas) */
    rn_arena *arena;       /* not NULL: built in this arena for inference (section 13) */
    int max_batch;         /* arena networks: the largest batch forward takes */
    float *arena_outputs[2]; /* arena networks: where the layers write, alternately */
    rn_workspace workspace; /* the kernels' scratch; unused by arena networks */
} rn_net;

/* A network whose samples have the given shape: (C, H, W) or (features). */
RN_API rn_net *rn_net_new(int sample_ndim, const int *sample_shape);
RN_API void rn_net_free(rn_net *net);

/* Each add checks that the layer fits the previous output and names its
   parameters after the layer ("conv1.weight"). On error the network is
   unchanged. New layers start with RN_INIT_TORCH_DEFAULT from a fixed seed.
   A convolution's padding is at most its kernel size. */
RN_API int rn_net_add_conv2d(rn_net *net, int out_channels, int kernel, int stride, int padding);
/* A linear layer takes each sample as one vector: after a convolution or
   pooling layer it reads the C x H x W values in NCHW order, as if a
   flatten layer came first (PyTorch's nn.Linear would need nn.Flatten). */
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
/* What layer index (from 0) put out in the last forward pass, e.g. the
   feature maps after an activation; NULL, with a message, for an index
   outside the network. */
RN_API const rn_tensor *rn_net_layer_output(const rn_net *net, int index);
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

/* Training helpers: one epoch, an evaluation and a prediction over a whole
   set of inputs (N x sample shape) and integer labels, in batches. With
   classification in mind: the loss is rn_loss_cross_entropy. */

/* The batch an epoch has in hand, as its callbacks see it. */
typedef struct rn_batch {
    int index, count;  /* this batch (from 0) and the epoch's batch count */
    rn_tensor *inputs; /* the epoch's own copy of the items: prepare may change it */
    const int *labels;
    float loss;        /* the batch's mean cross-entropy (after the forward pass) */
} rn_batch;

/* RN_OK to go on; any other value ends the epoch and is returned. */
typedef int (*rn_batch_fn)(void *context, rn_net *net, rn_batch *batch);

typedef struct rn_epoch_desc {
    int batch_size;
    const int *order;        /* the items in this order (e.g. a fresh permutation per
                                epoch), order[0 .. count); NULL: 0, 1, ... */
    int count;               /* items used; 0: all N */
    rn_batch_fn prepare;     /* before the forward pass: data augmentation */
    rn_batch_fn before_step; /* after backward, before the step: rn_net_penalty */
    rn_batch_fn after_step;  /* a recorder, a projection, a progress line */
    void *context;           /* for all three */
} rn_epoch_desc;

typedef struct rn_epoch_stats {
    double loss;              /* mean cross-entropy over the items */
    double accuracy;          /* top-1 on the training batches, as they were seen */
    double images_per_second; /* wall clock under C11, processor time under C99 */
    int batches;
} rn_epoch_stats;

struct rn_optim; /* rn_optim, section 10 */

/* One pass of forward, cross-entropy, backward and rn_optim_step per batch
   (RN_TRAIN mode). stats may be NULL. On error the parameters hold the
   last good step. */
RN_API int rn_net_train_epoch(rn_net *net, struct rn_optim *opt, const rn_tensor *inputs,
                              const int *labels, const rn_epoch_desc *desc, rn_epoch_stats *stats);

typedef struct rn_eval_stats {
    double loss;          /* mean cross-entropy */
    double accuracy;      /* top-1 */
    double topk_accuracy; /* the label among the k largest logits */
} rn_eval_stats;

/* The network on every input in RN_EVAL mode, batch_size at a time. k >= 1
   for topk_accuracy. confusion, when not NULL, is K x K ints (K the
   network's outputs) and is overwritten: confusion[true * K + predicted]. */
RN_API int rn_net_evaluate(rn_net *net, const rn_tensor *inputs, const int *labels, int batch_size,
                           int k, int *confusion, rn_eval_stats *stats);

/* Predictions in RN_EVAL mode: classes[n] the index of the largest output
   (or NULL), probabilities the N x K softmax of the outputs (or NULL). */
RN_API int rn_net_predict(rn_net *net, const rn_tensor *inputs, int batch_size, int *classes,
                          float *probabilities);

/* ===== 9. losses and penalties ============================================ */

/* Each computes the mean loss over the batch and, when grad is not NULL,
   writes d loss / d input into it (same shape as the input). NaN or infinity
   in the input, or NaN in a target, is an RN_ERR_NUMERIC error; BCE targets
   outside [0, 1] and infinite MSE targets are RN_ERR_ARGUMENT. */
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
   by -sign(gradient) * step; only the sign of the gradient matters.
   rn_optim_new refuses what torch.optim refuses: lr, momentum, weight decay
   or eps negative or not finite, dampening outside [0, 1], Nesterov without
   momentum > 0 and dampening 0, betas outside [0, 1), etas not 0 <
   eta_minus < 1 < eta_plus, and step sizes not 0 <= step_min <= step_max. */
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
/* Gives the selected parameters their own learning rate and weight decay
   (each finite and >= 0). */
RN_API int rn_optim_set_group(rn_optim *opt, rn_param_filter filter, float lr,
                              float weight_decay);
/* Multiplies every learning rate by factor: the hook for schedules. A
   factor (or a product) that is negative or not finite is RN_ERR_ARGUMENT
   and changes nothing. */
RN_API int rn_optim_scale_lr(rn_optim *opt, float factor);
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

/* ===== 12. model files ==================================================== */

/* CRC-32 (the IEEE polynomial of zlib, gzip and PNG) of size bytes,
   continuing from crc: start with 0. rn_crc32(0, "123456789", 9) is
   0xCBF43926. */
RN_API uint32_t rn_crc32(uint32_t crc, const void *data, size_t size);

#define RN_FILE_VERSION 2 /* the newest model-file format this build reads and writes */

/* Model files (format under MODEL FILES at the top of this file). Saving
   writes the architecture, every hyper-parameter and every parameter value;
   loading rebuilds the network with the same rn_net_add_* calls, checks
   everything against them and returns it in *net, or leaves *net NULL on
   any error (a damaged, truncated or newer file is RN_ERR_FORMAT). */
RN_API int rn_net_save(const rn_net *net, const char *path);
RN_API int rn_net_load(const char *path, rn_net **net);
/* In memory: *size always receives the file's size. With buffer NULL that
   is all (a measurement); otherwise the file is written when capacity is
   large enough, and RN_ERR_ARGUMENT says it is not. */
RN_API int rn_net_save_memory(const rn_net *net, void *buffer, size_t capacity, size_t *size);
RN_API int rn_net_load_memory(const void *bytes, size_t size, rn_net **net);

/* An optimizer's state (its settings, step count, per-parameter learning
   rates and moment buffers), so that training resumes exactly: load it into
   an optimizer of the same kind made for the same network. On error the
   optimizer is unchanged. */
RN_API int rn_optim_save(const rn_optim *opt, const char *path);
RN_API int rn_optim_load(rn_optim *opt, const char *path);
RN_API int rn_optim_save_memory(const rn_optim *opt, void *buffer, size_t capacity,
                                size_t *size);
RN_API int rn_optim_load_memory(rn_optim *opt, const void *bytes, size_t size);

/* ===== 13. firmware ======================================================= */

/* Writes a C header that holds the network's parameters as static const
   float arrays (name_conv1_weight, ...) and a function
       int name_build(rn_arena *arena, int max_batch, rn_net **net)
   that builds the network in an arena around them (RN_OK and *net, or a
   status and *net NULL), plus the macro NAME_ARENA_BYTES(max_batch) for
   sizing the arena at compile time and NAME_PARAMS_CRC32, the checksum the
   builder verifies (rn_net_bind_params_checked) before it binds the arrays.
   name must be a C identifier. Values are printed so that they read back
   bit-exact. What is exported is rn_net_fold_batchnorm's copy of net: batch
   norms right after a convolution or linear layer disappear into it, and
   the others run as batch norm in eval mode. */
RN_API int rn_net_export_c(const rn_net *net, const char *path, const char *name);

/* A copy of net for inference, in *folded, in which every batch norm right
   after a convolution or linear layer is folded into that layer, as
   deployment tools do: with s = scale / sqrt(running_var + eps) per
   channel, output channel c's weights become w s[c] and its bias (added if
   the layer had none) (b - running_mean[c]) s[c] + shift[c]. In RN_EVAL it
   computes what net computes, up to float rounding (tests check 1e-5 of the
   largest output). Other batch norms, and every other layer, are copied as
   they are. Free it with rn_net_free. */
RN_API int rn_net_fold_batchnorm(const rn_net *net, rn_net **folded);

/* Heap-free inference. An arena hands out 64-byte aligned blocks of a
   caller's buffer and never frees them. A network made by rn_net_new_arena
   takes everything from it: the network and its layers, and at the first
   forward pass two buffers its layers write to in turn. Layers that map
   each value to the value in its place (activations, batch norm, dropout,
   flatten) write over their input instead, and each buffer is sized for
   the largest output planned into it, so only the last layer's output
   survives a pass; the second buffer can hold the input too
   (rn_net_arena_input). Its parameters have no storage of their
   own: rn_net_bind_params points them at arrays the caller keeps (in flash,
   say). It does inference only: forward in RN_EVAL mode on batches of at
   most max_batch; built with RELUNET_NO_SIMD nothing else allocates (the
   SIMD kernels take scratch from RN_MALLOC on every call); backward,
   rn_net_init and optimizers refuse it, adding layers after the first
   forward fails, and rn_net_free does nothing (drop the arena). A batch
   norm in an arena network takes its statistics from the arena too
   (running mean 0, variance 1 until the caller writes its layer's
   running_mean and running_var, as exported builders do). */
struct rn_arena {
    unsigned char *memory;
    size_t size;
    size_t used;
};

RN_API void rn_arena_init(rn_arena *arena, void *memory, size_t size);
/* A zeroed block of bytes, 64-byte aligned, or NULL when it does not fit. */
RN_API void *rn_arena_alloc(rn_arena *arena, size_t bytes);
/* A network for up to max_layers layers (added with the usual
   rn_net_add_* calls) and batches of up to max_batch samples. */
RN_API rn_net *rn_net_new_arena(rn_arena *arena, int sample_ndim, const int *sample_shape,
                                int max_layers, int max_batch);
/* values[i] holds rn_net_param(net, i)'s values, in that order; the arrays
   must outlive the network and are only read. */
RN_API int rn_net_bind_params(rn_net *net, const float *const *values);
/* What an exported builder binds with: rn_net_bind_params, after checking
   that there are n_values arrays, that values[i] holds counts[i] floats,
   rn_net_param(net, i)'s size, and that the CRC-32 of all the values (each
   float's bits as four little-endian bytes, parameter after parameter) is
   crc32. Anything else is RN_ERR_FORMAT and nothing is bound, so a header
   that was edited, damaged or built for another architecture is refused
   rather than run. */
RN_API int rn_net_bind_params_checked(rn_net *net, int n_values, const float *const *values,
                                      const size_t *counts, uint32_t crc32);
/* Where to put a batch's input so that it costs no memory of its own: the
   arena's second buffer, which holds max_batch samples of the input shape
   (taken from the arena on the first call, NULL when it does not fit).
   Pass rn_net_forward a view of it; the pass overwrites it. */
RN_API float *rn_net_arena_input(rn_net *net);
/* Bytes an arena needs for an inference copy of net built with max_layers =
   its layer count, exactly (each layer holds only the parameters it has). */
RN_API size_t rn_net_arena_bytes(const rn_net *net, int max_batch);
/* At least as much, as a constant expression for static buffers: a network
   of n_layers layers with n_params parameter tensors in all, whose two
   buffers hold first_floats and second_floats values per sample
   (rn_net_export_c writes the figures). It includes 63 bytes for aligning a
   buffer that is not aligned, and the up to 63 per layer that rounding each
   layer's block to the arena's alignment may leave unused. */
#define RN__ARENA_ROUND(bytes) (((size_t)(bytes) + 63u) / 64u * 64u)
#define RN__ARENA_BYTES_BESIDE_LAYERS(n_layers, first_floats, second_floats, max_batch)       \
    (63u + RN__ARENA_ROUND(sizeof(rn_net)) + RN__ARENA_ROUND((n_layers) * sizeof(rn_layer *)) + \
     RN__ARENA_ROUND((n_layers) * sizeof(rn_tensor)) +                                          \
     RN__ARENA_ROUND((size_t)(max_batch) * (size_t)(first_floats) * sizeof(float)) +            \
     RN__ARENA_ROUND((size_t)(max_batch) * (size_t)(second_floats) * sizeof(float)))
#define RN_NET_ARENA_BYTES(n_layers, n_params, first_floats, second_floats, max_batch)        \
    (RN__ARENA_BYTES_BESIDE_LAYERS(n_layers, first_floats, second_floats, max_batch) +         \
     (size_t)(n_layers) * (sizeof(rn_layer) + 63u) + (size_t)(n_params) * sizeof(rn_param))

/* Int8 post-training quantisation, in the scheme of TFLite and CMSIS-NN.
   A tensor's int8 values q stand for scale (q - zero_point). Activations
   (the input and every layer's output) are asymmetric per tensor: their
   range is the minimum and maximum over a calibration set, widened to hold
   0, and rn_qparams_from_range turns it into a scale and zero point with
   PyTorch's MinMaxObserver arithmetic (float32, qint8 [-128, 127]).
   Weights are symmetric per output channel: scale max|w| / 127 (at least
   FLT_EPSILON, as PyTorch), zero point 0, values in [-127, 127]. A bias is
   int32 with scale input scale x weight scale. Results are requantised
   with a Q31 multiplier and a shift (rn_qmultiplier), rounded as TFLite
   specifies. Layers: conv2d and linear (accumulate w (x - input zero
   point) in int32 from the bias; padding adds nothing), max pool and
   average pool (same scale in and out; the average rounds half away from
   zero), flatten and dropout (copies), and the activations identity, ReLU,
   LReLU, PReLU (shared or per channel) and ReLU_alpha, each as two
   requantisation paths: x >= 0 with input scale / output scale, x < 0 with
   that times its slope (0 for ReLU, the fixed slope for LReLU, the learned
   slope for PReLU, 1 - alpha for ReLU_alpha), so a learned slope is kept to
   31 bits instead of being rounded to int8. Batch norm is folded first
   (rn_net_fold_batchnorm); one that cannot be folded, sigmoid, tanh and the
   adaptive kinds are refused (RN_ERR_UNSUPPORTED, naming the layer and
   kind). The int8 forward pass allocates nothing and uses no float. */
typedef struct rn_qparams {
    float scale;
    int32_t zero_point;
} rn_qparams;

/* A real factor m as multiplier 2^(shift - 31): multiplier a Q31 value
   with 2^30 <= |multiplier| <= 2^31 - 1 (negative for m < 0), shift in
   [-31, 30]; both 0 for m = 0 or |m| < 2^-32. */
typedef struct rn_qmultiplier {
    int32_t multiplier;
    int32_t shift;
} rn_qmultiplier;

/* One layer of an int8 network. Shapes are of one sample, as in rn_layer. */
typedef struct rn_qlayer {
    rn_layer_type type;
    rn_act_kind act_kind;            /* activation layers */
    char name[16];                   /* the float layer's name: "conv1" */
    int in_ndim, in_shape[3];
    int out_ndim, out_shape[3];
    int kernel, stride, padding;     /* conv2d and the pools */
    int channels;                    /* conv2d, linear: output channels; activations:
                                        slopes (1 shared, or one per channel) */
    rn_qparams in, out;              /* the input's and the output's quantisation */
    int output_buffer;               /* which buffer of its rn_qnet it writes */
    const int8_t *weights;           /* conv2d, linear: as the float layer's */
    const float *weight_scales;      /* conv2d, linear: per output channel */
    const int32_t *bias;             /* conv2d, linear: per output channel */
    const rn_qmultiplier *requant;   /* conv2d, linear: in.scale weight_scales[c] / out.scale
                                        per output channel; activations: [0] in.scale /
                                        out.scale, for x >= in.zero_point */
    const rn_qmultiplier *slope_requant; /* activations: in.scale slope / out.scale per slope */
    void *storage;                   /* the arrays above, owned (NULL: someone else's) */
} rn_qlayer;

/* An int8 network: its layers, and two buffers for one sample that the
   layers write in turn (the plan of arena networks, section 13). */
typedef struct rn_qnet {
    int n_layers;
    const rn_qlayer *layers;
    int in_ndim, in_shape[3];
    size_t in_size, out_size;        /* values of one sample at the input and output */
    int8_t *buffers[2];
    size_t buffer_bytes[2];
} rn_qnet;

/* The scale and zero point of the range [min, max] widened to hold 0. */
RN_API rn_qparams rn_qparams_from_range(float min, float max);
/* clamp(zero_point + round(value / scale)) to [-128, 127], half to even. */
RN_API int8_t rn_quantize_value(float value, rn_qparams params);
RN_API float rn_dequantize_value(int8_t value, rn_qparams params);
/* TFLite's QuantizeMultiplier: RN_ERR_NUMERIC for a factor that is not
   finite or whose magnitude is 2^30 or more. */
RN_API int rn_quantize_multiplier(double factor, rn_qmultiplier *multiplier);
/* TFLite's MultiplyByQuantizedMultiplier: value x factor, rounded:
   SaturatingRoundingDoublingHighMul by the multiplier, then
   RoundingDivideByPOT for a negative shift; a positive shift multiplies
   value by 2^shift first, saturating at the int32 range. */
RN_API int32_t rn_qmultiplier_apply(int32_t value, rn_qmultiplier multiplier);
/* One sample through one layer; input and output may be the same memory
   for activations, flatten and dropout only. */
RN_API int rn_qlayer_forward(const rn_qlayer *layer, const int8_t *input, int8_t *output);
/* The network on batch samples of int8 input (quantised with
   layers[0].in) to batch samples of int8 output (layers[n_layers - 1].out).
   Allocates nothing; uses the network's buffers, so one thread per rn_qnet.
   A single sample may already be in buffers[1], where the first layer
   reads it (a sensor can write it there, and no input array is needed). */
RN_API int rn_qnet_forward(rn_qnet *qnet, const int8_t *input, int batch, int8_t *output);
/* The same from float input (N x the sample shape), quantised on the way
   in, to float output, dequantised on the way out: output is resized to
   N x the output shape (allocating only when it is too small). */
RN_API int rn_qnet_forward_float(rn_qnet *qnet, const rn_tensor *input, rn_tensor *output);
RN_API void rn_qnet_free(rn_qnet *qnet);
/* Quantises net (which is left as it is) in *qnet, calibrated on
   calibration_inputs (N x the sample shape, finite): every layer's output
   range is measured over them in RN_EVAL. On error *qnet is NULL. */
RN_API int rn_net_quantize(const rn_net *net, const rn_tensor *calibration_inputs,
                           rn_qnet **qnet);
/* RN_OK when qnet is sound: every layer's shapes agree with its kind and
   settings and chain from the network's input to its output, every output
   fits the buffer it is written to, zero points and multipliers are in
   range, and the CRC-32 of the values the arithmetic uses (zero points,
   scales, weights, biases, multipliers, little-endian) is crc32 (for a
   network rn_qnet_export_c wrote, NAME_QNET_CRC32). Otherwise
   RN_ERR_FORMAT, naming the first fault, so a damaged header is refused
   before it runs. The arrays are read for as many values as the checked
   shapes say. */
RN_API int rn_qnet_check(const rn_qnet *qnet, uint32_t crc32);
/* The CRC-32 rn_qnet_check compares with. */
RN_API uint32_t rn_qnet_crc32(const rn_qnet *qnet);
/* Writes qnet as a C header for a program with no heap: its arrays as
   constants (flash), its layer table as a constant, and a static rn_qnet
   name_qnet with two static buffers (RAM). Include relunet.h first, then

       if (rn_qnet_check(&name_qnet, NAME_QNET_CRC32) != RN_OK) refuse it;
       rn_qnet_forward(&name_qnet, input, 1, output);

   Layer names become part of the arrays' names, so they must be C
   identifiers (rn_net's are). */
RN_API int rn_qnet_export_c(const rn_qnet *qnet, const char *path, const char *name);

/* ===== 14. relaxed activation identity (RAI) training ===================== */

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
                                     of the optimizer (its state is kept; loaded from a
                                     file, it keeps the schedule too); 0: never */
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

/* ===== 15. internals: instruction sets, threads and kernels =============== */

/* The convolutions, matrix products, ReLU, PReLU, e^x, tanh and sigmoid run
   on the best instruction set the CPU has (optimizer updates, pooling and
   batch norm are plain C loops), chosen once, at first use: "avx512", "avx2"
   (with FMA), "sse2" or "neon", else "scalar", the plain C reference.
   RELUNET_ISA=scalar|sse2|avx2|avx512|neon in the environment (read at
   first use) or rn_set_isa() forces one. Built without GCC/Clang extensions
   (tcc) or with RELUNET_NO_SIMD defined, only "scalar" exists. */
RN_API const char *rn_isa_name(void);
/* "auto" picks the best again. RN_ERR_UNSUPPORTED: this CPU or build lacks
   it; RN_ERR_ARGUMENT: not one of the names above. */
RN_API int rn_set_isa(const char *name);
/* Threads for batches and matrix tiles when built with -fopenmp (count 0:
   OpenMP's default); results do not depend on the count. Without OpenMP
   everything runs on the calling thread and rn_threads() is 1. */
RN_API int rn_set_threads(int count);
RN_API int rn_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* RELUNET_H_INCLUDED */

/* ========================================================================== */
/*                              IMPLEMENTATION                                */
/* ========================================================================== */

#if defined(RELUNET_IMPLEMENTATION) && !defined(RELUNET_IMPLEMENTATION_INCLUDED)
#define RELUNET_IMPLEMENTATION_INCLUDED

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Keeps a small hot function out of its caller: inlined into a loop nest,
   its variables no longer fit a Cortex-M's registers and spill. */
/* And the opposite, for a few lines called once per output that -Os
   would leave as a call. */
#if defined(__GNUC__) || defined(__clang__)
#define RN__NOINLINE __attribute__((noinline))
#define RN__INLINE inline __attribute__((always_inline))
#else
#define RN__NOINLINE
#define RN__INLINE inline
#endif

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

RN_API const char *rn_version(void) { return RELUNET_VERSION_STRING; }

/* ===== 2. status codes and error messages ================================= */

/* Storage of one copy per thread: C11's _Thread_local, C++11's
   thread_local, else the compilers' own __thread or __declspec(thread).
   A compiler with none of them (tcc) gets one copy for the whole program:
   RN_THREAD_LOCAL_MISSING is then defined, and errors are only reliable
   from one thread at a time. So do targets with no thread pointer to find
   the copies by: Cortex-M (bare-metal toolchains have no __aeabi_read_tp),
   and any other where RELUNET_NO_THREAD_LOCAL is defined. */
#if defined(RELUNET_NO_THREAD_LOCAL) || (defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M')
#define RN__THREAD_LOCAL
#define RN_THREAD_LOCAL_MISSING 1
#elif defined(__cplusplus) && __cplusplus >= 201103L
#define RN__THREAD_LOCAL thread_local
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_THREADS__)
#define RN__THREAD_LOCAL _Thread_local
#elif defined(_MSC_VER)
#define RN__THREAD_LOCAL __declspec(thread)
#elif (defined(__GNUC__) || defined(__clang__)) && !defined(__TINYC__)
#define RN__THREAD_LOCAL __thread
#else
#define RN__THREAD_LOCAL
#define RN_THREAD_LOCAL_MISSING 1
#endif

#ifdef RELUNET_NO_ERROR_STRINGS
static RN__THREAD_LOCAL char rn__error_message[24] = "no error";
#else
static RN__THREAD_LOCAL char rn__error_message[512] = "no error";
#endif

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

#ifdef RELUNET_NO_ERROR_STRINGS
/* As stb_image's STBI_NO_FAILURE_STRINGS: the message is the status's
   name, the format is never read, and vsnprintf is not linked. */
static int rn__name_status(int status)
{
    strncpy(rn__error_message, rn_status_string(status), sizeof rn__error_message - 1);
    return status;
}

RN_API int rn_set_error(int status, const char *format, ...)
{
    (void)format;
    return rn__name_status(status);
}

/* Below, and in the code that includes the implementation, rn_set_error
   drops its message where it is called: the call becomes one small enough
   to inline, and then no message string is left in the program (1.3 KB of
   the int8 firmware, 3.5 KB of the float one). Its arguments are still
   evaluated, as they were. */
static int rn__drop_message(int status, const char *format, ...)
{
    (void)format;
    return rn__name_status(status);
}
#define rn_set_error(...) rn__drop_message(__VA_ARGS__)
#else
RN_API int rn_set_error(int status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(rn__error_message, sizeof rn__error_message, format, args);
    va_end(args);
    return status;
}
#endif

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
    if (ndim < 1 || ndim > RN_MAX_DIMS)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: %d dimensions (need 1 to %d)", caller, ndim,
                            RN_MAX_DIMS);
    if (shape == NULL) return rn_set_error(RN_ERR_ARGUMENT, "%s: the shape is NULL", caller);
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

static int rn__tensor_resize(rn_tensor *tensor, int ndim, const int *shape, const char *caller);

RN_API int rn_tensor_new(rn_tensor *tensor, int ndim, const int *shape)
{
    int status;
    if (tensor == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_tensor_new: tensor is NULL");
    memset(tensor, 0, sizeof *tensor);
    status = rn__tensor_resize(tensor, ndim, shape, "rn_tensor_new");
    if (status == RN_OK) rn_tensor_fill(tensor, 0.0f);
    return status;
}

RN_API int rn_tensor_resize(rn_tensor *tensor, int ndim, const int *shape)
{
    return rn__tensor_resize(tensor, ndim, shape, "rn_tensor_resize");
}

/* rn_tensor_resize, with the name of the public function in messages. */
static int rn__tensor_resize(rn_tensor *tensor, int ndim, const int *shape, const char *caller)
{
    size_t size;
    float *data;
    int status;
    if (tensor == NULL) return rn_set_error(RN_ERR_ARGUMENT, "%s: tensor is NULL", caller);
    status = rn__shape_size(ndim, shape, &size, caller);
    if (status != RN_OK) return status;
    if (tensor->capacity == 0 && tensor->data != NULL) {
        if (size != tensor->size)
            return rn_set_error(RN_ERR_ARGUMENT, "%s: cannot resize a view of %lu elements to %lu",
                                caller, (unsigned long)tensor->size, (unsigned long)size);
    } else if (size > tensor->capacity) {
        data = (float *)rn__malloc_aligned(size * sizeof(float));
        if (data == NULL)
            return rn_set_error(RN_ERR_MEMORY, "%s: cannot allocate %lu floats", caller,
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

RN_API int rn_tensor_clone(rn_tensor *clone, const rn_tensor *source)
{
    int status;
    if (clone == NULL || source == NULL || source->data == NULL || source->ndim < 1)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_tensor_clone: NULL or empty tensor");
    memset(clone, 0, sizeof *clone);
    status = rn_tensor_new(clone, source->ndim, source->shape);
    if (status == RN_OK) memcpy(clone->data, source->data, source->size * sizeof(float));
    return status;
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

/* Names and shapes are written without snprintf, which a microcontroller
   build then need not link: text and decimal numbers appended to a buffer
   of capacity bytes that stays terminated, cut where it is full. */
static void rn__append_text(char *buffer, size_t capacity, size_t *used, const char *text)
{
    while (*text != '\0' && *used + 1 < capacity) buffer[(*used)++] = *text++;
    buffer[*used] = '\0';
}

static void rn__append_int(char *buffer, size_t capacity, size_t *used, int value)
{
    char digits[12];
    unsigned magnitude = value < 0 ? 0u - (unsigned)value : (unsigned)value;
    int n = (int)sizeof digits - 1;
    digits[n] = '\0';
    do {
        digits[--n] = (char)('0' + magnitude % 10u);
        magnitude /= 10u;
    } while (magnitude > 0);
    if (value < 0) digits[--n] = '-';
    rn__append_text(buffer, capacity, used, digits + n);
}

/* Formats dims as "[a, b, c]"; shared by tensors and layer shapes. */
static void rn__dims_string(int ndim, const int *dims, char *buffer, size_t buffer_size)
{
    size_t used = 0;
    int i;
    if (buffer_size == 0) return;
    rn__append_text(buffer, buffer_size, &used, "[");
    for (i = 0; i < ndim; i++) {
        if (i > 0) rn__append_text(buffer, buffer_size, &used, ", ");
        rn__append_int(buffer, buffer_size, &used, dims[i]);
    }
    rn__append_text(buffer, buffer_size, &used, "]");
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

/* Names and shapes a parameter without giving it storage: its value is an
   unbound view (data NULL) until rn__param_alloc or an arena binds it. */
static int rn__param_describe(rn_param *param, const char *layer_name, const char *short_name,
                              rn_param_kind kind, int layer, int ndim, const int *shape)
{
    size_t size, used = 0;
    int status = rn__shape_size(ndim, shape, &size, "rn_param");
    memset(param, 0, sizeof *param);
    if (status != RN_OK) return status;
    rn__append_text(param->name, sizeof param->name, &used, layer_name);
    rn__append_text(param->name, sizeof param->name, &used, ".");
    rn__append_text(param->name, sizeof param->name, &used, short_name);
    param->kind = kind;
    param->layer = layer;
    param->min = -INFINITY;
    param->max = INFINITY;
    rn__set_shape(&param->value, ndim, shape, size);
    return RN_OK;
}

/* Gives a described parameter zeroed storage for its value and gradient. */
static int rn__param_alloc(rn_param *param)
{
    int shape[RN_MAX_DIMS], ndim = param->value.ndim, status;
    memcpy(shape, param->value.shape, sizeof shape);
    status = rn_tensor_new(&param->value, ndim, shape);
    if (status == RN_OK) status = rn_tensor_new(&param->grad, ndim, shape);
    if (status != RN_OK) {
        rn_tensor_free(&param->value);
        rn_tensor_free(&param->grad);
    }
    return status;
}

/* ===== the kernels' interface ============================================= */

/* What the sections below call the kernels through: their table, the
   shapes they take, and the few passes the layers run. Section 15 defines
   them, after everything else, as internals. */

/* Everything a convolution kernel needs to know about its shapes. */
typedef struct rn__conv_geometry {
    int batch;
    int in_channels, in_height, in_width;
    int out_channels, out_height, out_width;
    int kernel, stride, padding;
} rn__conv_geometry;

/* A micro-kernel adds the product of an mr x depth panel of A, packed (see
   rn__pack), and a depth x nr panel of B, whose row p is the nr values at
   b + b_rows[p], to the mr x nr tile of C at c: the only code that differs
   between instruction sets in a matrix product. B's rows are packed one
   after the other, or are rows of an image a convolution reads in place. */
typedef void (*rn__micro_kernel)(int depth, const float *a, const float *b,
                                 const ptrdiff_t *b_rows, float *c, int ldc);

/* The kernels behind the layers, one table per instruction set. The scalar
   table is the reference every other one is tested against; the others
   share one blocked matrix product and differ in their micro-kernel. */
typedef struct rn__kernel_table {
    const char *isa;
    int mr, nr;             /* micro-tile rows and columns */
    rn__micro_kernel micro; /* NULL for the scalar table */
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
    /* The activations the studies train most, over n elements: ReLU, and
       PReLU (x > 0 ? x : slope x), whose backward returns d loss / d slope. */
    void (*relu_forward)(const float *x, float *y, size_t n);
    void (*relu_backward)(const float *x, const float *dy, float *dx, size_t n);
    void (*prelu_forward)(const float *x, float *y, size_t n, float slope);
    double (*prelu_backward)(const float *x, const float *dy, float *dx, size_t n, float slope);
    /* y = e^x, tanh x and 1 / (1 + e^-x) over n elements; y may be x. */
    void (*exp_values)(const float *x, float *y, size_t n);
    void (*tanh_values)(const float *x, float *y, size_t n);
    void (*sigmoid_values)(const float *x, float *y, size_t n);
    /* The backward of b f(a x + c) + d given f's values in dx, whose
       derivative is k0 + f (k1 - f): overwrites dx with the input gradient
       and returns the sums of the gradients of a, b, c and d in sums. */
    void (*affine_backward)(const float *x, const float *dy, float *dx, size_t n, float a,
                            float b, float k0, float k1, double *sums);
} rn__kernel_table;

/* The table in use, chosen on first call (defined with the tables below). */
static const rn__kernel_table *rn__kernels(void);

/* Set when a SIMD kernel could not get its scratch memory and did nothing;
   the layer pass that called it reports RN_ERR_MEMORY. (The scalar kernels
   need none: heap-free builds define RELUNET_NO_SIMD.) One flag per
   thread, so that networks trained in two threads keep their own; the
   workers of a parallel region hand theirs to the calling thread. */
static RN__THREAD_LOCAL int rn__kernel_out_of_memory;

/* RN_OK, or the error for kernels that found no scratch memory since the
   flag was last cleared. */
static int rn__kernel_status(const char *caller);

/* The workspace the kernels take their scratch from, per thread: a
   network's while one of its passes runs, else NULL, and then every block
   is allocated and freed on its own. A kernel's parallel loop lends the
   calling thread's to its workers. */
static RN__THREAD_LOCAL rn_workspace *rn__workspace_in_use;

/* A 64-byte aligned block of bytes from this thread's stack of the
   workspace in use (NULL when there is no memory for it), and giving it
   back: blocks go back in the reverse order they were taken. */
static void *rn__scratch_take(size_t bytes);
static void rn__scratch_give(void *block, size_t bytes);

/* A network's pass runs between these: enter makes its workspace the one
   in use, with a stack for every thread its kernels can run on, and keeps
   the one before in *previous; leave grows the stacks to what the pass
   asked of them, puts *previous back and returns status, or RN_ERR_MEMORY
   when a stack could not grow (it keeps what it had). Arena networks use
   none: their kernels allocate every block, as without a network. */
static int rn__workspace_enter(rn_net *net, rn_workspace **previous, const char *caller);
static int rn__workspace_leave(rn_net *net, rn_workspace *previous, int status, const char *caller);
static void rn__workspace_free(rn_workspace *workspace);

typedef enum rn__elementwise_pass {
    RN__RELU_FORWARD,
    RN__RELU_BACKWARD,
    RN__PRELU_FORWARD,
    RN__PRELU_BACKWARD /* returns d loss / d slope */
} rn__elementwise_pass;

/* One of those passes over n elements, in chunks that threads share out. */
static double rn__elementwise(rn__elementwise_pass pass, const float *x, const float *dy,
                              float *out, size_t n, float slope);

/* ===== 6. activations ===================================================== */

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
    (void)p;
    rn__elementwise(RN__RELU_FORWARD, x, NULL, y, n, 0.0f);
}

static void rn__relu_backward(const float *x, const float *y, const float *dy, float *dx,
                              size_t n, const float *p, double *dp)
{
    (void)y, (void)p, (void)dp;
    rn__elementwise(RN__RELU_BACKWARD, x, dy, dx, n, 0.0f);
}

static void rn__sigmoid_forward(const float *x, float *y, size_t n, const float *p)
{
    (void)p;
    rn__kernels()->sigmoid_values(x, y, n);
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
    (void)p;
    rn__kernels()->tanh_values(x, y, n);
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
    rn__elementwise(RN__PRELU_FORWARD, x, NULL, y, n, p[0]);
}

static void rn__prelu_backward(const float *x, const float *y, const float *dy, float *dx,
                               size_t n, const float *p, double *dp)
{
    (void)y;
    dp[0] += rn__elementwise(RN__PRELU_BACKWARD, x, dy, dx, n, p[0]);
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

/* The curves run on blocks small enough to stay in L1 between the passes
   around them. */
#define RN__CURVE_BLOCK ((size_t)512) /* a size_t, so C++ sees one type in ?: */

typedef void (*rn__curve_fn)(const float *x, float *y, size_t n);

/* The length of the block that starts at `first` of n. */
static size_t rn__curve_block(size_t n, size_t first)
{
    return n - first < (size_t)RN__CURVE_BLOCK ? n - first : (size_t)RN__CURVE_BLOCK;
}

/* ASigmoid and ATanh: b * f(a x + c) + d with p = (a, b, c, d). */
static void rn__affine_curve(rn__curve_fn curve, const float *x, float *y, size_t n, const float *p)
{
    float a = p[0], b = p[1], c = p[2], d = p[3];
    size_t first, i;
    for (first = 0; first < n; first += RN__CURVE_BLOCK) {
        size_t count = rn__curve_block(n, first);
        float *out = y + first;
        for (i = 0; i < count; i++) out[i] = a * x[first + i] + c;
        curve(out, out, count);
        for (i = 0; i < count; i++) out[i] = b * out[i] + d;
    }
}

static void rn__asigmoid_forward(const float *x, float *y, size_t n, const float *p)
{
    rn__affine_curve(rn__kernels()->sigmoid_values, x, y, n, p);
}

static void rn__atanh_forward(const float *x, float *y, size_t n, const float *p)
{
    rn__affine_curve(rn__kernels()->tanh_values, x, y, n, p);
}

/* The mixtures' tanh and sigmoid of u = a x + c over one block. */
static void rn__mix_curves(const float *x, size_t n, float a, float c, float *t, float *s)
{
    size_t i;
    for (i = 0; i < n; i++) t[i] = a * x[i] + c;
    rn__kernels()->sigmoid_values(t, s, n);
    rn__kernels()->tanh_values(t, t, n);
}

/* The backward of b f(a x + c) + d, given f = f(a x + c) in dx (overwritten
   with the input gradient). Both derivatives are quadratics in f's value,
   f' = k0 + f (k1 - f): sigmoid' = s - s^2, tanh' = 1 - t^2. y cannot stand
   in for f: recovering f = (y - d) / b loses precision when b is small. */
static void rn__affine_backward(const float *x, const float *dy, float *dx, size_t n,
                                const float *p, double *dp, float k0, float k1)
{
    double sums[4];
    int k;
    rn__kernels()->affine_backward(x, dy, dx, n, p[0], p[1], k0, k1, sums);
    for (k = 0; k < 4; k++) dp[k] += sums[k];
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
    float t[RN__CURVE_BLOCK], s[RN__CURVE_BLOCK];
    size_t first, i;
    for (first = 0; first < n; first += RN__CURVE_BLOCK) {
        size_t count = rn__curve_block(n, first);
        rn__mix_curves(x + first, count, a, c, t, s);
        for (i = 0; i < count; i++) {
            float u = a * x[first + i] + c, v = b * x[first + i] + d, r = u >= v ? u : v;
            y[first + i] = wt * (b * t[i] + d) + ws * (b * s[i] + d) + wr * r;
        }
    }
}

static void rn__mix_adaptive_backward(const float *x, const float *y, const float *dy, float *dx,
                                      size_t n, const float *p, double *dp)
{
    float wt = p[0], ws = p[1], wr = p[2], a = p[3], b = p[4], c = p[5], d = p[6];
    double dwt = 0.0, dws = 0.0, dwr = 0.0, da = 0.0, db = 0.0, dc = 0.0, dd = 0.0;
    float curve_t[RN__CURVE_BLOCK], curve_s[RN__CURVE_BLOCK];
    size_t first, j;
    (void)y;
    for (first = 0; first < n; first += RN__CURVE_BLOCK) {
        size_t count = rn__curve_block(n, first);
        rn__mix_curves(x + first, count, a, c, curve_t, curve_s);
        for (j = 0; j < count; j++) {
            size_t i = first + j;
            float u = a * x[i] + c, v = b * x[i] + d, g = dy[i];
            float t = curve_t[j], s = curve_s[j], r = u >= v ? u : v;
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
    float t[RN__CURVE_BLOCK], s[RN__CURVE_BLOCK];
    size_t first, j;
    for (first = 0; first < n; first += RN__CURVE_BLOCK) {
        size_t count = rn__curve_block(n, first);
        const float *in = x + first;
        rn__mix_curves(in, count, 1.0f, 0.0f, t, s);
        for (j = 0; j < count; j++)
            y[first + j] = wt * t[j] + ws * s[j] + wr * (in[j] > 0.0f ? in[j] : 0.0f);
    }
}

static void rn__mix_fixed_backward(const float *x, const float *y, const float *dy, float *dx,
                                   size_t n, const float *p, double *dp)
{
    float wt = p[0], ws = p[1], wr = p[2];
    double dwt = 0.0, dws = 0.0, dwr = 0.0;
    float curve_t[RN__CURVE_BLOCK], curve_s[RN__CURVE_BLOCK];
    size_t first, j;
    (void)y;
    for (first = 0; first < n; first += RN__CURVE_BLOCK) {
        size_t count = rn__curve_block(n, first);
        rn__mix_curves(x + first, count, 1.0f, 0.0f, curve_t, curve_s);
        for (j = 0; j < count; j++) {
            size_t i = first + j;
            float t = curve_t[j], s = curve_s[j], positive = x[i] > 0.0f, g = dy[i];
            dwt += g * t;
            dws += g * s;
            dwr += g * positive * x[i];
            dx[i] = g * (wt * (1.0f - t * t) + ws * s * (1.0f - s) + wr * positive);
        }
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

/* ===== 7. layers ========================================================== */

static size_t rn__dims_product(int ndim, const int *dims)
{
    size_t product = 1;
    int i;
    for (i = 0; i < ndim; i++) product *= (size_t)dims[i];
    return product;
}

/* One sample, at the input or after any layer, has at most RN_MAX_DIM_SIZE
   values, so that counts fit an int and hostile sizes fail early. The
   dimensions are each at most RN_MAX_DIM_SIZE already. */
static int rn__check_sample_size(int ndim, const int *dims, const char *caller)
{
    double values = 1.0;
    int i;
    for (i = 0; i < ndim; i++) values *= (double)dims[i];
    if (values <= (double)RN_MAX_DIM_SIZE) return RN_OK;
    return rn_set_error(RN_ERR_SHAPE, "%s: a sample of %.0f values is too large (at most %d)",
                        caller, values, RN_MAX_DIM_SIZE);
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
    if (x->ndim >= 1 && x->shape[0] < 1)
        return rn_set_error(RN_ERR_SHAPE, "%s: %s has a batch of %d samples (need at least 1)",
                            caller, what, x->shape[0]);
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
    int widest = (layer->in_shape[1] > layer->in_shape[2] ? layer->in_shape[1] : layer->in_shape[2]) +
                 2 * layer->padding - layer->kernel + 1;
    g.batch = batch;
    g.in_channels = layer->in_shape[0];
    g.in_height = layer->in_shape[1];
    g.in_width = layer->in_shape[2];
    g.out_channels = layer->out_shape[0];
    g.out_height = layer->out_shape[1];
    g.out_width = layer->out_shape[2];
    g.kernel = layer->kernel;
    /* A stride of `widest` or more leaves one output per row and column,
       the same for any such stride; the kernels' scratch grows with the
       stride squared, so they get the smallest stride that does the same. */
    g.stride = layer->stride < widest ? layer->stride : widest;
    g.padding = layer->padding;
    return g;
}

/* Linear layers see each sample as a vector of all its values. */
static void rn__linear_forward(const rn_layer *layer, const rn_tensor *x, rn_tensor *y)
{
    int batch = x->shape[0], in = (int)(x->size / (size_t)batch), out = layer->units, n, j;
    const rn_param *weight = &layer->params[0];
    rn__kernels()->sgemm(0, 1, batch, out, in, x->data, in, weight->value.data, in, 0.0f, y->data,
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
    rn__kernels()->sgemm(1, 0, out, in, batch, dy->data, out, x->data, in, 1.0f, weight->grad.data,
                      in);
    if (layer->has_bias)
        for (j = 0; j < out; j++) {
            double sum = 0.0;
            for (n = 0; n < batch; n++) sum += dy->data[(size_t)n * out + j];
            layer->params[1].grad.data[j] += (float)sum;
        }
    if (dx != NULL)
        rn__kernels()->sgemm(0, 0, batch, in, out, dy->data, out, weight->value.data, in, 0.0f,
                          dx->data, in);
}

/* The last NaN of the window at corner, or best when it has none. */
static size_t rn__window_nan(const float *x, size_t corner, int kernel, int width, size_t best)
{
    int i, j;
    for (i = 0; i < kernel; i++)
        for (j = 0; j < kernel; j++)
            if (isnan(x[corner + (size_t)i * width + j])) best = corner + (size_t)i * width + j;
    return best;
}

/* Max and average pooling over kernel x kernel windows without padding.
   Backward of max pooling sends the gradient to the first maximum of each
   window, found again from x rather than stored. A NaN in a window is its
   maximum (the last NaN, as in torch), so NaN is never hidden: the window's
   sum, which both poolings compute, is NaN then (or when it holds both
   infinities), and only such windows are searched again. */
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
                if (is_max && isnan(sum)) best = rn__window_nan(x, corner, k, width, best);
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

/* Fills p with the values the kernels see for one channel (see section 6)
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
    if (mode == RN_EVAL) { /* in place in arena networks */
        if (y->data != x->data) memcpy(y->data, x->data, x->size * sizeof(float));
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
    rn__kernel_out_of_memory = 0;
    switch (layer->type) {
    case RN_LAYER_CONV2D:
        g = rn__layer_geometry(layer, x->shape[0]);
        rn__kernels()->conv2d_forward(&g, x->data, layer->params[0].value.data,
                                   layer->has_bias ? layer->params[1].value.data : NULL, y->data);
        break;
    case RN_LAYER_LINEAR: rn__linear_forward(layer, x, y); break;
    case RN_LAYER_MAXPOOL2D:
    case RN_LAYER_AVGPOOL2D: rn__pool(layer, x->shape[0], x->data, y->data, NULL, NULL); break;
    case RN_LAYER_FLATTEN: /* in place in arena networks */
        if (y->data != x->data) memcpy(y->data, x->data, x->size * sizeof(float));
        break;
    case RN_LAYER_ACTIVATION: rn__act_forward(layer, x, y); break;
    case RN_LAYER_BATCHNORM: return rn__batchnorm_forward(layer, x, y, mode);
    case RN_LAYER_DROPOUT: return rn__dropout_forward(layer, x, y, mode);
    }
    return rn__kernel_status("rn_layer_forward");
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
    rn__kernel_out_of_memory = 0;
    switch (layer->type) {
    case RN_LAYER_CONV2D:
        g = rn__layer_geometry(layer, x->shape[0]);
        rn__kernels()->conv2d_backward_weight(&g, x->data, dy->data, layer->params[0].grad.data,
                                           layer->has_bias ? layer->params[1].grad.data : NULL);
        if (dx != NULL)
            rn__kernels()->conv2d_backward_input(&g, dy->data, layer->params[0].value.data,
                                                 dx->data);
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
            float *scratch = (float *)rn__scratch_take(x->size * sizeof(float));
            if (scratch == NULL)
                return rn_set_error(RN_ERR_MEMORY, "rn_layer_backward: cannot allocate %lu floats",
                                    (unsigned long)x->size);
            rn__act_backward(layer, x, y, dy, scratch);
            rn__scratch_give(scratch, x->size * sizeof(float));
        }
        break;
    case RN_LAYER_BATCHNORM: rn__batchnorm_backward(layer, x, dy, dx ? dx->data : NULL); break;
    case RN_LAYER_DROPOUT: return dx != NULL ? rn__dropout_backward(layer, dy, dx->data) : RN_OK;
    }
    return rn__kernel_status("rn_layer_backward");
}

static void rn__fill_random(rn_tensor *tensor, rn_rng *rng, int normal, float scale)
{
    size_t i;
    for (i = 0; i < tensor->size; i++)
        tensor->data[i] = normal ? scale * rn_rng_normal(rng)
                                 : scale * (2.0f * rn_rng_uniform(rng) - 1.0f);
}

/* A dropout layer's own generator, derived from the initialising one. */
static void rn__seed_dropout(rn_layer *layer, const rn_rng *rng)
{
    rn_rng_seed(&layer->rng, rng->state, 0x64726f70ULL + (uint64_t)layer->index);
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
        rn__seed_dropout(layer, rng);
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

/* ===== 8. network ========================================================= */

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

/* Starts a layer that takes the network's current output as its input,
   built on the caller's stack with room for RN_LAYER_MAX_PARAMS parameters;
   the network stores only those it has (rn__net_append). */
static int rn__layer_begin(rn_net *net, rn_layer_type type, rn_layer *layer, rn_param *params,
                           const char *caller)
{
    size_t used = 0;
    int i, same_type = 1;
    if (net == NULL) return rn_set_error(RN_ERR_ARGUMENT, "%s: network is NULL", caller);
    if (net->arena_outputs[0] != NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: an arena network takes no layers after its "
                            "first forward pass", caller);
    memset(layer, 0, sizeof *layer);
    layer->params = params;
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
    rn__append_text(layer->name, sizeof layer->name, &used, rn__layer_type_names[type]);
    rn__append_int(layer->name, sizeof layer->name, &used, same_type);
    return RN_OK;
}

/* Describes one more parameter of a layer being built; the network gives
   it storage when the layer is appended. */
static int rn__layer_add_param(rn_layer *layer, const char *short_name, rn_param_kind kind,
                               int ndim, const int *shape)
{
    int status = rn__param_describe(&layer->params[layer->n_params], layer->name, short_name,
                                    kind, layer->index, ndim, shape);
    if (status == RN_OK) layer->n_params++;
    return status;
}

static int rn__layer_alloc_params(rn_layer *layer)
{
    int k, status = RN_OK;
    for (k = 0; k < layer->n_params && status == RN_OK; k++)
        status = rn__param_alloc(&layer->params[k]);
    return status;
}

/* The parameters of a new layer of an rn_net_new network: storage, and
   values as rn_net_init's default draws them. Only rn_net_new points its
   networks here, so a firmware image that builds arena networks alone
   links no random initialisation, nor the double-precision libm it uses
   (7.6 KB of a Cortex-M4F image). */
static int rn__make_params(rn_layer *layer, rn_rng *rng)
{
    int status = rn__layer_alloc_params(layer);
    return status == RN_OK ? rn_layer_init(layer, RN_INIT_TORCH_DEFAULT, 0.0f, rng) : status;
}

static int rn__arena_net_reserve(rn_net *net);
static rn_layer *rn__net_alloc_layer(rn_net *net, int n_params);
static int rn__arena_forward_begin(rn_net *net, const rn_tensor *x, rn_mode mode);
static void rn__arena_output_bind(rn_net *net, int layer, int batch);

/* Grows the network's arrays so that one more layer fits. */
static int rn__net_reserve(rn_net *net)
{
    int capacity = net->capacity ? 2 * net->capacity : 8, i;
    rn_layer **layers;
    rn_tensor *outputs, *grads;
    if (net->n_layers < net->capacity) return RN_OK;
    if (net->arena != NULL) return rn__arena_net_reserve(net);
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

/* Takes ownership of a layer built on the stack: gives its parameters
   storage and values (unless they are bound later) and stores it; on
   failure its parameters are freed and the network is unchanged. New
   weights and dropout's stream come from a seed fixed per position, so a
   network is reproducible before rn_net_init. */
static int rn__net_append(rn_net *net, rn_layer *layer, int status)
{
    rn_layer *stored = NULL;
    rn_rng rng;
    rn_rng_seed(&rng, 0x72656c756e6574ULL, (uint64_t)layer->index);
    if (status == RN_OK) status = rn__net_reserve(net);
    if (status == RN_OK && net->make_params != NULL) status = net->make_params(layer, &rng);
    if (status == RN_OK) {
        stored = rn__net_alloc_layer(net, layer->n_params);
        if (stored == NULL) status = rn_set_error(RN_ERR_MEMORY, "rn_net: cannot allocate a layer");
    }
    if (status != RN_OK) {
        rn__layer_free(layer);
        return status;
    }
    if (layer->type == RN_LAYER_DROPOUT) rn__seed_dropout(layer, &rng);
    *stored = *layer;
    stored->params = (rn_param *)(stored + 1);
    memcpy(stored->params, layer->params, (size_t)layer->n_params * sizeof(rn_param));
    RN_ASSERT(net->n_layers < net->capacity);
    net->layers[net->n_layers++] = stored;
    net->input.data = NULL; /* a new layer invalidates the cached forward pass */
    return RN_OK;
}

static int rn__check_sample_shape(int sample_ndim, const int *sample_shape, const char *caller)
{
    size_t size;
    int status;
    if (sample_ndim < 1 || sample_ndim > 3)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: a sample has %d dimensions (need 1 to 3)",
                            caller, sample_ndim);
    status = rn__shape_size(sample_ndim, sample_shape, &size, caller);
    return status == RN_OK ? rn__check_sample_size(sample_ndim, sample_shape, caller) : status;
}

RN_API rn_net *rn_net_new(int sample_ndim, const int *sample_shape)
{
    rn_net *net;
    if (rn__check_sample_shape(sample_ndim, sample_shape, "rn_net_new") != RN_OK) return NULL;
    net = (rn_net *)rn__calloc(1, sizeof *net);
    if (net == NULL) {
        rn_set_error(RN_ERR_MEMORY, "rn_net_new: cannot allocate a network");
        return NULL;
    }
    net->in_ndim = sample_ndim;
    memcpy(net->in_shape, sample_shape, (size_t)sample_ndim * sizeof(int));
    net->make_params = rn__make_params;
    return net;
}

RN_API void rn_net_free(rn_net *net)
{
    int i;
    if (net == NULL || net->arena != NULL) return; /* an arena network is the arena's memory */
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
    rn__workspace_free(&net->workspace);
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
    /* A border wider than the kernel only adds outputs that see nothing but
       zeros, and the kernels' scratch grows with it. */
    if (kernel < 1 || stride < 1 || padding < 0 || channels < 1 || kernel > RN_MAX_DIM_SIZE ||
        stride > RN_MAX_DIM_SIZE || padding > kernel || channels > RN_MAX_DIM_SIZE)
        return rn_set_error(RN_ERR_ARGUMENT,
                            "%s: channels %d, kernel %d, stride %d, padding %d (need channels, "
                            "kernel, stride >= 1, all at most %d, and padding from 0 to the kernel "
                            "size)",
                            caller, channels, kernel, stride, padding, RN_MAX_DIM_SIZE);
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
    return rn__check_sample_size(layer->out_ndim, layer->out_shape, caller);
}

RN_API int rn_net_add_conv2d(rn_net *net, int out_channels, int kernel, int stride, int padding)
{
    rn_layer layer;
    rn_param params[RN_LAYER_MAX_PARAMS];
    int status = rn__layer_begin(net, RN_LAYER_CONV2D, &layer, params, "rn_net_add_conv2d");
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
    rn_param params[RN_LAYER_MAX_PARAMS];
    int status = rn__layer_begin(net, RN_LAYER_LINEAR, &layer, params, "rn_net_add_linear");
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
    rn_param params[RN_LAYER_MAX_PARAMS];
    int status = rn__layer_begin(net, type, &layer, params, caller);
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
    rn_param params[RN_LAYER_MAX_PARAMS];
    int status = rn__layer_begin(net, RN_LAYER_FLATTEN, &layer, params, "rn_net_add_flatten");
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
    rn_param params[RN_LAYER_MAX_PARAMS];
    const rn__act_info *info;
    int status = rn__layer_begin(net, RN_LAYER_ACTIVATION, &layer, params, "rn_net_add_activation");
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

/* A layer's per-channel state: from the heap, or from an arena network's
   arena (section 13), which never frees it. */
static int rn__net_state_new(rn_net *net, rn_tensor *state, int channels)
{
    float *values;
    if (net->arena == NULL) return rn_tensor_new(state, 1, &channels);
    values = (float *)rn_arena_alloc(net->arena, (size_t)channels * sizeof(float));
    if (values == NULL) return RN_ERR_MEMORY;
    *state = rn_tensor_view(values, 1, &channels);
    return RN_OK;
}

RN_API int rn_net_add_batchnorm(rn_net *net)
{
    return rn_net_add_batchnorm_ex(net, 1e-5f, 0.1f);
}

RN_API int rn_net_add_batchnorm_ex(rn_net *net, float eps, float momentum)
{
    rn_layer layer;
    rn_param params[RN_LAYER_MAX_PARAMS];
    int status = rn__layer_begin(net, RN_LAYER_BATCHNORM, &layer, params, "rn_net_add_batchnorm");
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
    if (status == RN_OK) status = rn__net_state_new(net, &layer.running_mean, channels);
    if (status == RN_OK) status = rn__net_state_new(net, &layer.running_var, channels);
    if (status == RN_OK) status = rn__net_state_new(net, &layer.used_mean, channels);
    if (status == RN_OK) status = rn__net_state_new(net, &layer.used_inv_std, channels);
    if (status == RN_OK && net->arena != NULL) rn_tensor_fill(&layer.running_var, 1.0f);
    return rn__net_append(net, &layer, status);
}

RN_API int rn_net_add_dropout(rn_net *net, float p)
{
    rn_layer layer;
    rn_param params[RN_LAYER_MAX_PARAMS];
    int status = rn__layer_begin(net, RN_LAYER_DROPOUT, &layer, params, "rn_net_add_dropout");
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
    if (net->arena != NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_init: an arena network's parameters are "
                            "bound read-only");
    rn_rng_seed(&rng, seed, 0);
    for (i = 0; i < net->n_layers && status == RN_OK; i++)
        status = rn_layer_init(net->layers[i], init, slope, &rng);
    return status;
}

RN_API int rn_net_forward(rn_net *net, const rn_tensor *x, rn_mode mode)
{
    const rn_tensor *input = x;
    const rn_layer *last;
    rn_workspace *previous;
    int i, status;
    if (net == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_net_forward: network is NULL");
    if (net->n_layers == 0) return rn_set_error(RN_ERR_ARGUMENT, "rn_net_forward: no layers");
    net->input.data = NULL;
    status = rn__check_batch_shape(x, net->in_ndim, net->in_shape, "rn_net_forward", "input");
    if (status == RN_OK && net->arena != NULL) status = rn__arena_forward_begin(net, x, mode);
    if (status == RN_OK) status = rn__workspace_enter(net, &previous, "rn_net_forward");
    if (status != RN_OK) return status;
    for (i = 0; i < net->n_layers && status == RN_OK; i++) {
        if (net->arena != NULL) rn__arena_output_bind(net, i, x->shape[0]);
        status = rn_layer_forward(net->layers[i], input, &net->outputs[i], mode);
        input = &net->outputs[i];
    }
    status = rn__workspace_leave(net, previous, status, "rn_net_forward");
    last = net->layers[net->n_layers - 1];
    if (status == RN_OK && net->arena == NULL)
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

RN_API const rn_tensor *rn_net_layer_output(const rn_net *net, int index)
{
    if (net == NULL || index < 0 || index >= net->n_layers) {
        rn_set_error(RN_ERR_ARGUMENT, "rn_net_layer_output: layer %d of %d", index,
                     net != NULL ? net->n_layers : 0);
        return NULL;
    }
    return &net->outputs[index];
}

RN_API rn_tensor *rn_net_output_grad(rn_net *net)
{
    return net != NULL && net->grads != NULL ? &net->grads[net->n_layers] : NULL;
}

RN_API rn_tensor *rn_net_input_grad(rn_net *net)
{
    return net != NULL && net->grads != NULL ? &net->grads[0] : NULL;
}

RN_API int rn_net_backward(rn_net *net)
{
    rn_workspace *previous;
    int i, status;
    if (net == NULL || net->n_layers == 0)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_backward: no network or no layers");
    if (net->arena != NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_backward: an arena network does inference only");
    if (net->input.data == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_backward: call rn_net_forward first");
    status = rn__workspace_enter(net, &previous, "rn_net_backward");
    if (status != RN_OK) return status;
    for (i = net->n_layers - 1; i >= 0 && status == RN_OK; i--) {
        const rn_tensor *x = i > 0 ? &net->outputs[i - 1] : &net->input;
        rn_tensor *dx = i > 0 || net->want_input_grad ? &net->grads[i] : NULL;
        status = rn_layer_backward(net->layers[i], x, &net->outputs[i], &net->grads[i + 1], dx);
    }
    return rn__workspace_leave(net, previous, status, "rn_net_backward");
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

/* The first parameter matching filter at or after parameter *k of layer
   *layer, which then point just past it; NULL when there is none. Start
   with *layer = *k = 0. One walk for every operation on a selection. */
static rn_param *rn__next_match(rn_net *net, rn_param_filter filter, int *layer, int *k)
{
    for (; net != NULL && *layer < net->n_layers; ++*layer, *k = 0)
        while (*k < net->layers[*layer]->n_params) {
            rn_param *param = &net->layers[*layer]->params[(*k)++];
            if (rn_param_matches(param, filter)) return param;
        }
    return NULL;
}

RN_API int rn_net_select(rn_net *net, rn_param_filter filter, rn_param **out, int max)
{
    int layer = 0, k = 0, count = 0;
    rn_param *param;
    while ((param = rn__next_match(net, filter, &layer, &k)) != NULL) {
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
    int i, asked = index;
    for (i = 0; net != NULL && index >= 0 && i < net->n_layers; i++) {
        if (index < net->layers[i]->n_params) return &net->layers[i]->params[index];
        index -= net->layers[i]->n_params;
    }
    if (net == NULL) rn_set_error(RN_ERR_ARGUMENT, "rn_net_param: network is NULL");
    else rn_set_error(RN_ERR_ARGUMENT, "rn_net_param: index %d is outside [0, %d)", asked,
                      rn_net_param_count(net));
    return NULL;
}

RN_API void rn_net_set_frozen(rn_net *net, rn_param_filter filter, int frozen)
{
    int layer = 0, k = 0;
    rn_param *param;
    while ((param = rn__next_match(net, filter, &layer, &k)) != NULL) param->frozen = frozen;
}

RN_API void rn_net_set_range(rn_net *net, rn_param_filter filter, float min, float max)
{
    int layer = 0, k = 0;
    rn_param *param;
    while ((param = rn__next_match(net, filter, &layer, &k)) != NULL) {
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

/* --- training helpers ------------------------------------------------------ */

static int rn__argmax(const float *row, int count);

/* Seconds from some fixed point: the wall clock where C11 gives one,
   processor time otherwise (the same on one thread). */
static double rn__seconds(void)
{
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && defined(TIME_UTC)
    struct timespec now;
    if (timespec_get(&now, TIME_UTC) == TIME_UTC) return (double)now.tv_sec + 1e-9 * now.tv_nsec;
#endif
    return (double)clock() / CLOCKS_PER_SEC;
}

/* inputs is N items of the network's sample shape and labels has N entries. */
static int rn__check_inputs(const rn_net *net, const rn_tensor *inputs, const void *labels,
                             int batch_size, const char *caller)
{
    size_t sample = 1;
    int d;
    if (net == NULL || inputs == NULL || inputs->data == NULL || labels == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: NULL network, inputs or labels", caller);
    if (batch_size < 1)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: batch size %d is below 1", caller, batch_size);
    for (d = 0; d < net->in_ndim; d++) sample *= (size_t)net->in_shape[d];
    if (inputs->ndim != net->in_ndim + 1 || inputs->size != (size_t)inputs->shape[0] * sample)
        return rn_set_error(RN_ERR_SHAPE, "%s: inputs are not N samples of the network's shape",
                            caller);
    return RN_OK;
}

/* Items order[first .. first + count) (or first .. when order is NULL) into
   batch and their labels into batch_labels. */
static void rn__gather(const rn_tensor *inputs, const int *labels, const int *order, int first,
                       int count, rn_tensor *batch, int *batch_labels)
{
    size_t sample = inputs->size / (size_t)inputs->shape[0];
    int i;
    for (i = 0; i < count; i++) {
        int item = order != NULL ? order[first + i] : first + i;
        memcpy(batch->data + (size_t)i * sample, inputs->data + (size_t)item * sample,
               sample * sizeof(float));
        batch_labels[i] = labels[item];
    }
}

/* The whole number of items a batch's share of hits stands for. */
static double rn__hits(double share, int items) { return floor(share * items + 0.5); }

static int rn__call(rn_batch_fn fn, void *context, rn_net *net, rn_batch *batch)
{
    return fn != NULL ? fn(context, net, batch) : RN_OK;
}

/* Forward, cross-entropy, backward, the callbacks and the step on one batch. */
static int rn__train_batch(rn_net *net, rn_optim *opt, const rn_epoch_desc *desc, rn_batch *batch)
{
    int status = rn__call(desc->prepare, desc->context, net, batch);
    if (status == RN_OK) status = rn_net_forward(net, batch->inputs, RN_TRAIN);
    rn_net_zero_grad(net);
    if (status == RN_OK)
        status = rn_loss_cross_entropy(rn_net_output(net), batch->labels, &batch->loss,
                                       rn_net_output_grad(net));
    if (status == RN_OK) status = rn_net_backward(net);
    if (status == RN_OK) status = rn__call(desc->before_step, desc->context, net, batch);
    if (status == RN_OK) status = rn_optim_step(opt);
    if (status == RN_OK) status = rn__call(desc->after_step, desc->context, net, batch);
    return status;
}

RN_API int rn_net_train_epoch(rn_net *net, rn_optim *opt, const rn_tensor *inputs,
                              const int *labels, const rn_epoch_desc *desc, rn_epoch_stats *stats)
{
    int status, n, first, shape[RN_MAX_DIMS], *batch_labels = NULL;
    double loss_sum = 0.0, correct = 0.0, start = rn__seconds(), seconds;
    rn_tensor buffer;
    rn_batch batch;
    memset(&buffer, 0, sizeof buffer);
    memset(&batch, 0, sizeof batch);
    if (desc == NULL || opt == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_train_epoch: NULL optimizer or desc");
    status = rn__check_inputs(net, inputs, labels, desc->batch_size, "rn_net_train_epoch");
    if (status != RN_OK) return status;
    n = desc->count > 0 ? desc->count : inputs->shape[0];
    if (n > inputs->shape[0] || desc->count < 0)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_train_epoch: count %d for %d items",
                            desc->count, inputs->shape[0]);
    for (first = 0; desc->order != NULL && first < n; first++)
        if (desc->order[first] < 0 || desc->order[first] >= inputs->shape[0])
            return rn_set_error(RN_ERR_ARGUMENT, "rn_net_train_epoch: order[%d] = %d is not an "
                                "item of %d", first, desc->order[first], inputs->shape[0]);
    memcpy(shape, inputs->shape, sizeof shape);
    shape[0] = desc->batch_size < n ? desc->batch_size : n;
    status = rn_tensor_new(&buffer, inputs->ndim, shape);
    batch_labels = (int *)rn__calloc((size_t)shape[0], sizeof(int));
    if (status == RN_OK && batch_labels == NULL)
        status = rn_set_error(RN_ERR_MEMORY, "rn_net_train_epoch: cannot allocate a batch");
    batch.count = (n + shape[0] - 1) / shape[0];
    batch.labels = batch_labels;
    for (first = 0; status == RN_OK && first < n; first += shape[0], batch.index++) {
        int size = n - first < shape[0] ? n - first : shape[0];
        rn_tensor view = rn_tensor_slice(&buffer, 0, size);
        rn__gather(inputs, labels, desc->order, first, size, &buffer, batch_labels);
        batch.inputs = &view;
        status = rn__train_batch(net, opt, desc, &batch);
        if (status != RN_OK) break;
        loss_sum += (double)batch.loss * size;
        correct += rn__hits(1.0 - rn_topk_error(rn_net_output(net), batch_labels, 1), size);
    }
    seconds = rn__seconds() - start;
    if (stats != NULL && status == RN_OK) {
        stats->loss = loss_sum / n;
        stats->accuracy = correct / n;
        stats->images_per_second = seconds > 0.0 ? n / seconds : 0.0;
        stats->batches = batch.count;
    }
    rn_tensor_free(&buffer);
    RN_FREE(batch_labels);
    return status;
}

/* The network's outputs per item: classes after the forward pass of a batch. */
static int rn__output_classes(rn_net *net, int batch_items)
{
    return (int)(rn_net_output(net)->size / (size_t)batch_items);
}

RN_API int rn_net_evaluate(rn_net *net, const rn_tensor *inputs, const int *labels, int batch_size,
                           int k, int *confusion, rn_eval_stats *stats)
{
    double loss_sum = 0.0, correct = 0.0, in_top = 0.0;
    int status = rn__check_inputs(net, inputs, labels, batch_size, "rn_net_evaluate"), n, first;
    int classes = 0;
    if (status == RN_OK && (k < 1 || stats == NULL))
        status = rn_set_error(RN_ERR_ARGUMENT, "rn_net_evaluate: k %d is below 1, or stats is "
                              "NULL", k);
    if (status != RN_OK) return status;
    n = inputs->shape[0];
    for (first = 0; status == RN_OK && first < n; first += batch_size) {
        int size = n - first < batch_size ? n - first : batch_size;
        rn_tensor batch = rn_tensor_slice(inputs, first, size);
        float loss = 0.0f;
        status = rn_net_forward(net, &batch, RN_EVAL);
        if (status == RN_OK)
            status = rn_loss_cross_entropy(rn_net_output(net), labels + first, &loss, NULL);
        if (status == RN_OK && first == 0) {
            classes = rn__output_classes(net, size);
            if (confusion != NULL) memset(confusion, 0, (size_t)classes * classes * sizeof(int));
        }
        if (status == RN_OK && confusion != NULL)
            status = rn_confusion_add(confusion, classes, rn_net_output(net), labels + first);
        if (status != RN_OK) break;
        loss_sum += (double)loss * size;
        correct += rn__hits(1.0 - rn_topk_error(rn_net_output(net), labels + first, 1), size);
        in_top += rn__hits(1.0 - rn_topk_error(rn_net_output(net), labels + first, k), size);
    }
    if (status != RN_OK) return status;
    stats->loss = loss_sum / n;
    stats->accuracy = correct / n;
    stats->topk_accuracy = in_top / n;
    return RN_OK;
}

/* Softmax of each row of K values, computed in double from the largest. */
static void rn__softmax_rows(const float *logits, int rows, int classes, float *out)
{
    int r, j;
    for (r = 0; r < rows; r++) {
        const float *row = logits + (size_t)r * classes;
        double top = row[rn__argmax(row, classes)], sum = 0.0;
        for (j = 0; j < classes; j++) sum += exp((double)row[j] - top);
        for (j = 0; j < classes; j++)
            out[(size_t)r * classes + j] = (float)(exp((double)row[j] - top) / sum);
    }
}

RN_API int rn_net_predict(rn_net *net, const rn_tensor *inputs, int batch_size, int *classes,
                          float *probabilities)
{
    int dummy = 0, status = rn__check_inputs(net, inputs, &dummy, batch_size, "rn_net_predict");
    int n, first, i;
    if (status != RN_OK) return status;
    n = inputs->shape[0];
    for (first = 0; status == RN_OK && first < n; first += batch_size) {
        int size = n - first < batch_size ? n - first : batch_size, k;
        rn_tensor batch = rn_tensor_slice(inputs, first, size);
        const float *out;
        status = rn_net_forward(net, &batch, RN_EVAL);
        if (status != RN_OK) break;
        out = rn_net_output(net)->data;
        k = rn__output_classes(net, size);
        for (i = 0; classes != NULL && i < size; i++)
            classes[first + i] = rn__argmax(out + (size_t)i * k, k);
        if (probabilities != NULL)
            rn__softmax_rows(out, size, k, probabilities + (size_t)first * k);
    }
    return status;
}

/* ===== 9. losses and penalties ============================================ */

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

/* Targets in [low, high] (NaN is outside any range). */
static int rn__check_targets(const float *targets, size_t count, float low, float high,
                             const char *caller)
{
    size_t i;
    if (targets == NULL) return rn_set_error(RN_ERR_ARGUMENT, "%s: targets is NULL", caller);
    for (i = 0; i < count; i++)
        if (!(targets[i] >= low && targets[i] <= high))
            return rn_set_error(isnan(targets[i]) ? RN_ERR_NUMERIC : RN_ERR_ARGUMENT,
                                "%s: target %lu is %g (need %g to %g)", caller, (unsigned long)i,
                                (double)targets[i], (double)low, (double)high);
    return RN_OK;
}

RN_API int rn_loss_bce_logits(const rn_tensor *logits, const float *targets, float *loss,
                              rn_tensor *grad)
{
    int status = rn__check_loss_input(logits, loss, grad, "rn_loss_bce_logits");
    double total = 0.0;
    size_t i;
    if (status == RN_OK)
        status = rn__check_targets(targets, logits->size, 0.0f, 1.0f, "rn_loss_bce_logits");
    if (status != RN_OK) return status;
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
    status = rn__check_targets(target->data, target->size, -FLT_MAX, FLT_MAX, "rn_loss_mse");
    if (status != RN_OK) return status;
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
    int layer = 0, k = 0;
    double sum = 0.0, norm, scale;
    rn_param *param;
    size_t j;
    while ((param = rn__next_match(net, filter, &layer, &k)) != NULL) {
        for (j = 0; j < param->value.size; j++) {
            double v = param->value.data[j];
            sum += kind == RN_PENALTY_L1 ? fabs(v) : v * v;
        }
    }
    norm = kind == RN_PENALTY_L2_NORM ? sqrt(sum) : sum;
    /* d/dp of lambda*sqrt(S) is lambda*p/sqrt(S); of lambda*S it is 2*lambda*p. */
    scale = kind == RN_PENALTY_L2_NORM ? (norm > 0.0 ? lambda / norm : 0.0) : 2.0 * lambda;
    layer = k = 0;
    while ((param = rn__next_match(net, filter, &layer, &k)) != NULL) {
        for (j = 0; j < param->grad.size; j++) { /* an arena network's have no gradient */
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

/* ===== 10. optimizers ===================================================== */

struct rn_optim {
    rn_optim_desc desc;
    int count;
    rn_param **params;
    float *lr;           /* per parameter: groups may differ */
    float *weight_decay;
    rn_tensor *first;    /* SGD momentum, Adam first moment, Rprop previous gradient */
    rn_tensor *second;   /* Adam second moment, Rprop step sizes */
    long *updates;       /* per parameter: the steps that changed it. Its state
                            starts at its first update, as torch.optim's does,
                            so a parameter unfrozen late starts fresh. */
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
    if (opt->updates) RN_FREE(opt->updates);
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

/* A learning rate or weight decay: finite and at least 0 (NaN fails). */
static int rn__check_rate(float value, const char *what, const char *caller)
{
    if (value >= 0.0f && value <= FLT_MAX) return RN_OK;
    return rn_set_error(RN_ERR_ARGUMENT, "%s: %s = %g (need a finite value >= 0)", caller, what,
                        (double)value);
}

/* The ranges torch.optim enforces, on the settings after the defaults. */
static int rn__check_optim_desc(const rn_optim_desc *d)
{
    const char *caller = "rn_optim_new";
    int status = rn__check_rate(d->lr, "lr", caller);
    if (status == RN_OK) status = rn__check_rate(d->momentum, "momentum", caller);
    if (status == RN_OK) status = rn__check_rate(d->weight_decay, "weight_decay", caller);
    if (status == RN_OK && !(d->dampening >= 0.0f && d->dampening <= 1.0f))
        status = rn_set_error(RN_ERR_ARGUMENT, "%s: dampening = %g (need 0 to 1)", caller,
                              (double)d->dampening);
    if (status == RN_OK && d->nesterov && !(d->momentum > 0.0f && d->dampening == 0.0f))
        status = rn_set_error(RN_ERR_ARGUMENT, "%s: Nesterov needs momentum > 0 and dampening "
                              "0, not momentum %g and dampening %g", caller,
                              (double)d->momentum, (double)d->dampening);
    if (status == RN_OK && !(d->beta1 >= 0.0f && d->beta1 < 1.0f))
        status = rn_set_error(RN_ERR_ARGUMENT, "%s: beta1 = %g (need 0 <= beta1 < 1)", caller,
                              (double)d->beta1);
    if (status == RN_OK && !(d->beta2 >= 0.0f && d->beta2 < 1.0f))
        status = rn_set_error(RN_ERR_ARGUMENT, "%s: beta2 = %g (need 0 <= beta2 < 1)", caller,
                              (double)d->beta2);
    if (status == RN_OK) status = rn__check_rate(d->eps, "eps", caller);
    if (status == RN_OK && !(d->eta_minus > 0.0f && d->eta_minus < 1.0f && d->eta_plus > 1.0f &&
                             d->eta_plus <= FLT_MAX))
        status = rn_set_error(RN_ERR_ARGUMENT, "%s: eta_minus = %g, eta_plus = %g (need 0 < "
                              "eta_minus < 1 < eta_plus)", caller, (double)d->eta_minus,
                              (double)d->eta_plus);
    if (status == RN_OK && !(d->step_min >= 0.0f && d->step_min <= d->step_max))
        status = rn_set_error(RN_ERR_ARGUMENT, "%s: step sizes [%g, %g] (need 0 <= step_min <= "
                              "step_max)", caller, (double)d->step_min, (double)d->step_max);
    return status;
}

RN_API rn_optim *rn_optim_new_params(rn_param *const *params, int count,
                                     const rn_optim_desc *desc)
{
    rn_optim *opt;
    rn_optim_desc settings;
    int i, status = RN_OK;
    if ((params == NULL && count > 0) || count < 0 || desc == NULL ||
        (unsigned)desc->kind > RN_RPROP) {
        rn_set_error(RN_ERR_ARGUMENT, "rn_optim_new: NULL parameters or desc, %d parameters, "
                     "or unknown kind", count);
        return NULL;
    }
    settings = rn__optim_defaults(desc);
    if (rn__check_optim_desc(&settings) != RN_OK) return NULL;
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
    opt->desc = settings;
    opt->count = count;
    opt->params = (rn_param **)rn__calloc((size_t)count, sizeof *opt->params);
    opt->lr = (float *)rn__calloc((size_t)count, sizeof *opt->lr);
    opt->weight_decay = (float *)rn__calloc((size_t)count, sizeof *opt->weight_decay);
    opt->first = (rn_tensor *)rn__calloc((size_t)count, sizeof *opt->first);
    opt->second = (rn_tensor *)rn__calloc((size_t)count, sizeof *opt->second);
    opt->updates = (long *)rn__calloc((size_t)count, sizeof *opt->updates);
    if (!opt->params || !opt->lr || !opt->weight_decay || !opt->first || !opt->second ||
        !opt->updates)
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
    if (net == NULL || net->arena != NULL) {
        rn_set_error(RN_ERR_ARGUMENT, "rn_optim_new: NULL network or arena network");
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
    int i, status;
    if (opt == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_optim_set_group: optimizer is NULL");
    status = rn__check_rate(lr, "lr", "rn_optim_set_group");
    if (status == RN_OK) status = rn__check_rate(weight_decay, "weight_decay", "rn_optim_set_group");
    if (status != RN_OK) return status;
    for (i = 0; i < opt->count; i++)
        if (rn_param_matches(opt->params[i], filter)) {
            opt->lr[i] = lr;
            opt->weight_decay[i] = weight_decay;
        }
    return RN_OK;
}

RN_API int rn_optim_scale_lr(rn_optim *opt, float factor)
{
    int i, status;
    if (opt == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_optim_scale_lr: optimizer is NULL");
    status = rn__check_rate(factor, "factor", "rn_optim_scale_lr");
    for (i = 0; status == RN_OK && i < opt->count; i++)
        status = rn__check_rate(opt->lr[i] * factor, "the scaled lr", "rn_optim_scale_lr");
    for (i = 0; status == RN_OK && i < opt->count; i++) opt->lr[i] *= factor;
    return status;
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
            b[j] = opt->updates[i] == 0 ? g : d->momentum * b[j] + (1.0f - d->dampening) * g;
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
    double t = (double)(opt->updates[i] + 1);
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
    if (opt->updates[i] == 0) rn_tensor_fill(&opt->second[i], opt->lr[i]);
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
        opt->updates[i]++;
    }
    opt->steps++;
    return RN_OK;
}

/* ===== 11. metrics ======================================================== */

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

/* ===== 12. model files ==================================================== */

RN_API uint32_t rn_crc32(uint32_t crc, const void *data, size_t size)
{
    /* Reflected polynomial 0xEDB88320, four bits at a time: a 16-entry
       table is small enough for a microcontroller's flash. */
    static const uint32_t table[16] = {
        0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
        0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
        0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
    const unsigned char *bytes = (const unsigned char *)data;
    size_t i;
    crc = ~crc;
    for (i = 0; i < size; i++) {
        crc ^= bytes[i];
        crc = (crc >> 4) ^ table[crc & 15u];
        crc = (crc >> 4) ^ table[crc & 15u];
    }
    return ~crc;
}

/* --- writing: bytes one by one, little-endian, whatever the host --------- */

/* Every file goes through a writer that counts bytes and keeps a running
   CRC, and copies them to a buffer (when they fit) or a file: the same code
   measures a file, writes it to memory and writes it to disk. */
typedef struct rn__writer {
    unsigned char *buffer;
    size_t capacity;
    FILE *file;
    size_t size;
    uint32_t crc;
    int failed; /* a write to the file failed */
} rn__writer;

static void rn__write_bytes(rn__writer *w, const void *bytes, size_t count)
{
    w->crc = rn_crc32(w->crc, bytes, count);
    if (w->buffer != NULL && w->size <= w->capacity && count <= w->capacity - w->size)
        memcpy(w->buffer + w->size, bytes, count);
    if (w->file != NULL && fwrite(bytes, 1, count, w->file) != count) w->failed = 1;
    w->size += count;
}

static void rn__write_u32(rn__writer *w, uint32_t value)
{
    unsigned char bytes[4];
    bytes[0] = (unsigned char)(value & 0xFFu);
    bytes[1] = (unsigned char)(value >> 8 & 0xFFu);
    bytes[2] = (unsigned char)(value >> 16 & 0xFFu);
    bytes[3] = (unsigned char)(value >> 24 & 0xFFu);
    rn__write_bytes(w, bytes, 4);
}

/* A float as its IEEE-754 bit pattern, so values come back bit-exact. */
static void rn__write_f32(rn__writer *w, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    rn__write_u32(w, bits);
}

/* Lists are a u32 count and then the items. */
static void rn__write_ints(rn__writer *w, const int *values, int count)
{
    int i;
    rn__write_u32(w, (uint32_t)count);
    for (i = 0; i < count; i++) rn__write_u32(w, (uint32_t)values[i]);
}

static void rn__write_floats(rn__writer *w, const float *values, size_t count)
{
    size_t i;
    rn__write_u32(w, (uint32_t)count);
    for (i = 0; i < count; i++) rn__write_f32(w, values[i]);
}

typedef void (*rn__body_writer)(rn__writer *w, const void *object);

#define RN__CONTAINER_BYTES 16 /* magic, version, body size; CRC-32 */

/* magic, version, body size, body, CRC-32 of all before it. The body is
   written twice: first to a writer with nowhere to write, to measure it. */
static int rn__write_container(rn__writer *w, const char *magic, rn__body_writer body,
                               const void *object, const char *caller)
{
    rn__writer measure;
    memset(&measure, 0, sizeof measure);
    body(&measure, object);
    if (measure.size > 0xFFFFFFFFu - RN__CONTAINER_BYTES)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: %lu bytes is too large for one file", caller,
                            (unsigned long)measure.size);
    rn__write_bytes(w, magic, 4);
    rn__write_u32(w, RN_FILE_VERSION);
    rn__write_u32(w, (uint32_t)measure.size);
    body(w, object);
    rn__write_u32(w, w->crc);
    return RN_OK;
}

static int rn__save_memory(const char *magic, rn__body_writer body, const void *object,
                           void *buffer, size_t capacity, size_t *size, const char *caller)
{
    rn__writer w;
    int status;
    if (object == NULL || size == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: NULL object or size", caller);
    memset(&w, 0, sizeof w);
    w.buffer = (unsigned char *)buffer;
    w.capacity = capacity;
    status = rn__write_container(&w, magic, body, object, caller);
    *size = w.size;
    if (status == RN_OK && buffer != NULL && w.size > capacity)
        status = rn_set_error(RN_ERR_ARGUMENT, "%s: needs %lu bytes, the buffer has %lu", caller,
                              (unsigned long)w.size, (unsigned long)capacity);
    return status;
}

/* Files are written under a temporary name beside the final one and renamed
   into place only when complete, so an interrupted or failed write never
   leaves half a file where a reader expects a whole one. */
typedef struct rn__output {
    FILE *file;
    char temp[4096];
} rn__output;

static int rn__output_open(rn__output *out, const char *path, const char *mode, const char *caller)
{
    int length = snprintf(out->temp, sizeof out->temp, "%s.tmp", path);
    out->file = NULL;
    if (length < 0 || (size_t)length >= sizeof out->temp)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: path too long: %s", caller, path);
    out->file = fopen(out->temp, mode);
    if (out->file == NULL)
        return rn_set_error(RN_ERR_IO, "%s: cannot create %s: %s", caller, out->temp,
                            strerror(errno));
    return RN_OK;
}

/* Closes the file and renames it to path when everything was written
   (status RN_OK and no write error); otherwise removes it and keeps status. */
static int rn__output_close(rn__output *out, int status, const char *path, const char *caller)
{
    int failed = ferror(out->file);
    if (fclose(out->file) != 0) failed = 1;
    if (status == RN_OK && failed)
        status = rn_set_error(RN_ERR_IO, "%s: writing %s failed: %s", caller, out->temp,
                              strerror(errno));
#if defined(_WIN32)
    /* Windows' rename does not replace a file; removing it first gives up
       atomicity there (MoveFileEx would keep it, but needs windows.h). */
    if (status == RN_OK) remove(path);
#endif
    if (status == RN_OK && rename(out->temp, path) != 0)
        status = rn_set_error(RN_ERR_IO, "%s: cannot rename %s to %s: %s", caller, out->temp,
                              path, strerror(errno));
    if (status != RN_OK) remove(out->temp);
    return status;
}

static int rn__save_file(const char *magic, rn__body_writer body, const void *object,
                         const char *path, const char *caller)
{
    rn__writer w;
    rn__output out;
    int status;
    if (object == NULL || path == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: NULL object or path", caller);
    if ((status = rn__output_open(&out, path, "wb", caller)) != RN_OK) return status;
    memset(&w, 0, sizeof w);
    w.file = out.file;
    status = rn__write_container(&w, magic, body, object, caller);
    if (status == RN_OK && w.failed)
        status = rn_set_error(RN_ERR_IO, "%s: writing %s failed", caller, out.temp);
    return rn__output_close(&out, status, path, caller);
}

/* --- reading: every count is checked against the bytes that remain ------ */

typedef struct rn__reader {
    const unsigned char *data;
    size_t size, at;
    uint32_t version;   /* the file's format version */
    const char *caller; /* names the loading function in messages */
} rn__reader;

static int rn__read_u32(rn__reader *r, uint32_t *value)
{
    const unsigned char *p = r->data + r->at;
    *value = 0;
    if (r->size - r->at < 4)
        return rn_set_error(RN_ERR_FORMAT, "%s: the contents end early (at byte %lu of %lu)",
                            r->caller, (unsigned long)r->at, (unsigned long)r->size);
    *value = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    r->at += 4;
    return RN_OK;
}

static int rn__read_f32(rn__reader *r, float *value)
{
    uint32_t bits;
    int status = rn__read_u32(r, &bits);
    if (status == RN_OK) memcpy(value, &bits, sizeof *value);
    return status;
}

/* A u32 that must lie in [min, max] (min >= 0); what names it in messages. */
static int rn__read_int(rn__reader *r, int min, int max, int *value, const char *what)
{
    uint32_t raw;
    int status = rn__read_u32(r, &raw);
    if (status != RN_OK) return status;
    if (raw < (uint32_t)min || raw > (uint32_t)max)
        return rn_set_error(RN_ERR_FORMAT, "%s: %s is %lu (need %d to %d)", r->caller, what,
                            (unsigned long)raw, min, max);
    *value = (int)raw;
    return RN_OK;
}

/* A list's count, at most max and small enough for the remaining bytes. */
static int rn__read_count(rn__reader *r, size_t max, size_t *count, const char *what)
{
    uint32_t raw;
    int status = rn__read_u32(r, &raw);
    if (status != RN_OK) return status;
    if (raw > max || raw > (r->size - r->at) / 4)
        return rn_set_error(RN_ERR_FORMAT, "%s: %s has %lu items (at most %lu, and %lu bytes are "
                            "left)", r->caller, what, (unsigned long)raw, (unsigned long)max,
                            (unsigned long)(r->size - r->at));
    *count = raw;
    return RN_OK;
}

/* A list of up to max ints, each in [0, RN_MAX_DIM_SIZE]. */
static int rn__read_ints(rn__reader *r, int *values, size_t max, int *count, const char *what)
{
    size_t n = 0, i;
    int status = rn__read_count(r, max, &n, what);
    for (i = 0; i < n && status == RN_OK; i++)
        status = rn__read_int(r, 0, RN_MAX_DIM_SIZE, &values[i], what);
    *count = (int)n;
    return status;
}

/* count finite floats into values, or only checked when values is NULL. */
static int rn__read_values(rn__reader *r, float *values, size_t count, const char *what)
{
    size_t i;
    for (i = 0; i < count; i++) {
        float value;
        int status = rn__read_f32(r, &value);
        if (status != RN_OK) return status;
        if (!isfinite(value))
            return rn_set_error(RN_ERR_FORMAT, "%s: %s[%lu] is %g", r->caller, what,
                                (unsigned long)i, (double)value);
        if (values != NULL) values[i] = value;
    }
    return RN_OK;
}

/* A list of exactly tensor->size floats, into the tensor, or only checked
   when commit is 0. */
static int rn__read_tensor(rn__reader *r, rn_tensor *tensor, int commit, const char *what)
{
    size_t count = 0;
    int status = rn__read_count(r, tensor->size, &count, what);
    if (status == RN_OK && count != tensor->size)
        status = rn_set_error(RN_ERR_FORMAT, "%s: %s has %lu values, not %lu", r->caller, what,
                              (unsigned long)count, (unsigned long)tensor->size);
    if (status == RN_OK) status = rn__read_values(r, commit ? tensor->data : NULL, count, what);
    return status;
}

static int rn__read_floats(rn__reader *r, float *values, size_t max, int *count, const char *what)
{
    size_t n = 0;
    int status = rn__read_count(r, max, &n, what);
    if (status == RN_OK) status = rn__read_values(r, values, n, what);
    *count = (int)n;
    return status;
}

/* Checks magic, version, size and CRC, and leaves r over the body. */
static int rn__open_container(rn__reader *r, const void *bytes, size_t size, const char *magic,
                              const char *caller)
{
    uint32_t version, body, stored_crc;
    int status;
    r->data = (const unsigned char *)bytes;
    r->size = size;
    r->at = 4;
    r->caller = caller;
    if (bytes == NULL || size < RN__CONTAINER_BYTES)
        return rn_set_error(RN_ERR_FORMAT, "%s: %lu bytes are too few for a relunet file", caller,
                            (unsigned long)size);
    if (memcmp(bytes, magic, 4) != 0)
        return rn_set_error(RN_ERR_FORMAT, "%s: not a relunet %.4s file (wrong magic)", caller,
                            magic);
    status = rn__read_u32(r, &version);
    if (status == RN_OK && version > RN_FILE_VERSION)
        status = rn_set_error(RN_ERR_FORMAT, "%s: the file has format version %lu, newer than this "
                              "relunet.h reads (%d): update relunet.h", caller,
                              (unsigned long)version, RN_FILE_VERSION);
    if (status == RN_OK && version == 0)
        status = rn_set_error(RN_ERR_FORMAT, "%s: format version 0 does not exist", caller);
    if (status == RN_OK) status = rn__read_u32(r, &body);
    if (status == RN_OK && body != size - RN__CONTAINER_BYTES)
        status = rn_set_error(RN_ERR_FORMAT, "%s: the file says %lu bytes of contents and has %lu "
                              "(truncated or extended)", caller, (unsigned long)body,
                              (unsigned long)(size - RN__CONTAINER_BYTES));
    if (status != RN_OK) return status;
    r->at = size - 4;
    rn__read_u32(r, &stored_crc);
    if (stored_crc != rn_crc32(0, bytes, size - 4))
        return rn_set_error(RN_ERR_FORMAT, "%s: CRC-32 mismatch: the file is damaged", caller);
    r->at = 12;
    r->size = size - 4;
    r->version = version;
    return RN_OK;
}

static int rn__close_container(const rn__reader *r)
{
    if (r->at == r->size) return RN_OK;
    return rn_set_error(RN_ERR_FORMAT, "%s: %lu bytes left over after the contents", r->caller,
                        (unsigned long)(r->size - r->at));
}

/* The whole file in a buffer from RN_MALLOC (relunet_data.h's readers use
   it too). */
static int rn__read_file(const char *path, unsigned char **bytes, size_t *size)
{
    FILE *file;
    long length = 0;
    int status = RN_OK;
    *bytes = NULL;
    *size = 0;
    if (path == NULL) return rn_set_error(RN_ERR_ARGUMENT, "cannot read a file: path is NULL");
    file = fopen(path, "rb");
    if (file == NULL) return rn_set_error(RN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(file, 0, SEEK_END) != 0 || (length = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0)
        status = rn_set_error(RN_ERR_IO, "%s: cannot determine the size", path);
    if (status == RN_OK) {
        *bytes = (unsigned char *)RN_MALLOC(length > 0 ? (size_t)length : 1);
        if (*bytes == NULL)
            status = rn_set_error(RN_ERR_MEMORY, "%s: cannot allocate %ld bytes", path, length);
    }
    if (status == RN_OK && fread(*bytes, 1, (size_t)length, file) != (size_t)length)
        status = rn_set_error(RN_ERR_IO, "%s: read error", path);
    fclose(file);
    if (status != RN_OK && *bytes != NULL) {
        RN_FREE(*bytes);
        *bytes = NULL;
    }
    if (status == RN_OK) *size = (size_t)length;
    return status;
}

/* --- networks ------------------------------------------------------------ */

static const char rn__net_magic[4] = {'R', 'N', 'E', 'T'};
static const char rn__optim_magic[4] = {'R', 'O', 'P', 'T'};

#define RN__MAX_HYPER 16

/* A layer's hyper-parameters, as the arguments of the rn_net_add_* call
   that rebuilds it. A new layer type adds a case to this pair of functions
   and to rn__export_layer's calls; layers with state besides parameters
   (batch norm's running statistics) also write and read it where the
   network's writer and rn__read_layer mark the state buffers. */
typedef struct rn__layer_hyper {
    int n_ints, n_floats;
    int ints[RN__MAX_HYPER];
    float floats[RN__MAX_HYPER];
} rn__layer_hyper;

static void rn__layer_hyper_get(const rn_layer *layer, rn__layer_hyper *h)
{
    int k;
    memset(h, 0, sizeof *h);
    switch (layer->type) {
    case RN_LAYER_CONV2D:
        h->n_ints = 5;
        h->ints[0] = layer->units;
        h->ints[1] = layer->kernel;
        h->ints[2] = layer->stride;
        h->ints[3] = layer->padding;
        h->ints[4] = layer->has_bias;
        break;
    case RN_LAYER_LINEAR:
        h->n_ints = 2;
        h->ints[0] = layer->units;
        h->ints[1] = layer->has_bias;
        break;
    case RN_LAYER_MAXPOOL2D:
    case RN_LAYER_AVGPOOL2D:
        h->n_ints = 2;
        h->ints[0] = layer->kernel;
        h->ints[1] = layer->stride;
        break;
    case RN_LAYER_FLATTEN: break;
    case RN_LAYER_BATCHNORM:
        h->n_floats = 2;
        h->floats[0] = layer->eps;
        h->floats[1] = layer->momentum;
        break;
    case RN_LAYER_DROPOUT:
        h->n_floats = 1;
        h->floats[0] = layer->drop_rate;
        break;
    case RN_LAYER_ACTIVATION:
        h->n_ints = 4;
        h->ints[0] = (int)layer->act.kind;
        h->ints[1] = (int)layer->act.share;
        h->ints[2] = layer->act.frozen;
        h->ints[3] = layer->act.unnormalized;
        h->n_floats = 1 + layer->n_params;
        h->floats[0] = layer->act.slope;
        for (k = 0; k < layer->n_params; k++) h->floats[1 + k] = layer->act_init[k];
        break;
    }
}

static int rn__layer_hyper_add(rn_net *net, int type, const rn__layer_hyper *h)
{
    /* Settings by rn_layer_type; -1: as many as the activation kind says. */
    static const int ints_of_type[] = {5, 2, 2, 2, 0, 4, 0, 0};
    static const int floats_of_type[] = {0, 0, 0, 0, 0, -1, 2, 1};
    rn_act_desc desc;
    int status, has_bias = 1;
    if (type >= (int)(sizeof ints_of_type / sizeof *ints_of_type))
        return rn_set_error(RN_ERR_FORMAT, "unknown layer type %d", type);
    if (h->n_ints != ints_of_type[type] ||
        (floats_of_type[type] >= 0 && h->n_floats != floats_of_type[type]))
        return rn_set_error(RN_ERR_FORMAT, "a %s layer with %d integer and %d float settings",
                            rn__layer_type_names[type], h->n_ints, h->n_floats);
    switch (type) {
    case RN_LAYER_CONV2D:
        status = rn_net_add_conv2d(net, h->ints[0], h->ints[1], h->ints[2], h->ints[3]);
        has_bias = h->ints[4];
        break;
    case RN_LAYER_LINEAR:
        status = rn_net_add_linear(net, h->ints[0]);
        has_bias = h->ints[1];
        break;
    case RN_LAYER_MAXPOOL2D: status = rn_net_add_maxpool2d(net, h->ints[0], h->ints[1]); break;
    case RN_LAYER_AVGPOOL2D: status = rn_net_add_avgpool2d(net, h->ints[0], h->ints[1]); break;
    case RN_LAYER_FLATTEN: status = rn_net_add_flatten(net); break;
    case RN_LAYER_BATCHNORM: status = rn_net_add_batchnorm_ex(net, h->floats[0], h->floats[1]); break;
    case RN_LAYER_DROPOUT: status = rn_net_add_dropout(net, h->floats[0]); break;
    default: /* RN_LAYER_ACTIVATION */
        memset(&desc, 0, sizeof desc);
        desc.kind = (rn_act_kind)h->ints[0];
        desc.share = (rn_share)h->ints[1];
        desc.frozen = h->ints[2];
        desc.unnormalized = h->ints[3];
        desc.slope = h->floats[0];
        desc.init = h->floats + 1;
        if (desc.kind >= RN_ACT_KIND_COUNT || h->n_floats != 1 + rn_act_param_count(desc.kind) ||
            desc.frozen > 1 || desc.unnormalized > 1)
            return rn_set_error(RN_ERR_FORMAT, "activation kind %d (this build knows %d), %d "
                                "constants, flags %d and %d", h->ints[0], RN_ACT_KIND_COUNT,
                                h->n_floats, desc.frozen, desc.unnormalized);
        status = rn_net_add_activation_ex(net, &desc);
        break;
    }
    if (status == RN_OK && has_bias > 1)
        status = rn_set_error(RN_ERR_FORMAT, "bias flag %d", has_bias);
    if (status == RN_OK && !has_bias) status = rn_net_remove_bias(net);
    return status;
}

/* State a layer keeps besides its parameters: batch norm's running mean
   and variance. Returns how many tensors. */
static int rn__layer_state(rn_layer *layer, rn_tensor **state)
{
    if (layer->type != RN_LAYER_BATCHNORM) return 0;
    state[0] = &layer->running_mean;
    state[1] = &layer->running_var;
    return 2;
}

/* What no training can produce: a negative running variance. */
static int rn__check_layer_state(const rn_layer *layer, const char *caller)
{
    size_t c;
    for (c = 0; layer->type == RN_LAYER_BATCHNORM && c < layer->running_var.size; c++)
        if (!(layer->running_var.data[c] >= 0.0f))
            return rn_set_error(RN_ERR_FORMAT, "%s: %s has running variance %g in channel %lu "
                                "(a variance is >= 0)", caller, layer->name,
                                (double)layer->running_var.data[c], (unsigned long)c);
    return RN_OK;
}

static void rn__write_param(rn__writer *w, const rn_param *param)
{
    rn__write_u32(w, (uint32_t)param->frozen);
    rn__write_f32(w, param->min);
    rn__write_f32(w, param->max);
    rn__write_floats(w, param->value.data, param->value.size);
}

/* Dropout's random stream (format 2 on), so that a resumed run drops the
   same values: one more state buffer, of four u32 (state, then increment,
   low halves first) rather than floats. */
static int rn__has_stream(const rn_layer *layer, uint32_t version)
{
    return layer->type == RN_LAYER_DROPOUT && version >= 2;
}

static void rn__write_stream(rn__writer *w, const rn_rng *rng)
{
    rn__write_u32(w, 4);
    rn__write_u32(w, (uint32_t)(rng->state & 0xFFFFFFFFu));
    rn__write_u32(w, (uint32_t)(rng->state >> 32));
    rn__write_u32(w, (uint32_t)(rng->increment & 0xFFFFFFFFu));
    rn__write_u32(w, (uint32_t)(rng->increment >> 32));
}

static void rn__write_net(rn__writer *w, const void *object)
{
    const rn_net *net = (const rn_net *)object;
    rn__layer_hyper h;
    rn_tensor *state[2];
    int i, k, n_state, has_stream;
    rn__write_ints(w, net->in_shape, net->in_ndim);
    rn__write_u32(w, (uint32_t)net->n_layers);
    for (i = 0; i < net->n_layers; i++) {
        rn_layer *layer = net->layers[i];
        rn__layer_hyper_get(layer, &h);
        rn__write_u32(w, (uint32_t)layer->type);
        rn__write_ints(w, h.ints, h.n_ints);
        rn__write_floats(w, h.floats, (size_t)h.n_floats);
        rn__write_u32(w, (uint32_t)layer->n_params);
        for (k = 0; k < layer->n_params; k++) rn__write_param(w, &layer->params[k]);
        n_state = rn__layer_state(layer, state);
        has_stream = rn__has_stream(layer, RN_FILE_VERSION);
        rn__write_u32(w, (uint32_t)(n_state + has_stream));
        for (k = 0; k < n_state; k++) rn__write_floats(w, state[k]->data, state[k]->size);
        if (has_stream) rn__write_stream(w, &layer->rng);
    }
}

static int rn__check_savable(const rn_net *net, const char *caller)
{
    int i, k;
    if (net == NULL) return rn_set_error(RN_ERR_ARGUMENT, "%s: network is NULL", caller);
    for (i = 0; i < net->n_layers; i++)
        for (k = 0; k < net->layers[i]->n_params; k++)
            if (net->layers[i]->params[k].value.data == NULL)
                return rn_set_error(RN_ERR_ARGUMENT, "%s: %s has no values", caller,
                                    net->layers[i]->params[k].name);
    return RN_OK;
}

RN_API int rn_net_save_memory(const rn_net *net, void *buffer, size_t capacity, size_t *size)
{
    int status = rn__check_savable(net, "rn_net_save_memory");
    if (status != RN_OK) return status;
    return rn__save_memory(rn__net_magic, rn__write_net, net, buffer, capacity, size,
                           "rn_net_save_memory");
}

RN_API int rn_net_save(const rn_net *net, const char *path)
{
    int status = rn__check_savable(net, "rn_net_save");
    if (status != RN_OK) return status;
    return rn__save_file(rn__net_magic, rn__write_net, net, path, "rn_net_save");
}

/* One parameter's record: flags and range, then values checked against the
   shape the rebuilt layer gave it, read into storage it gets only then. */
static int rn__read_param(rn__reader *r, rn_param *param)
{
    float min = 0.0f, max = 0.0f;
    size_t count = 0;
    int frozen = 0, status = rn__read_int(r, 0, 1, &frozen, "a frozen flag");
    if (status == RN_OK) status = rn__read_f32(r, &min);
    if (status == RN_OK) status = rn__read_f32(r, &max);
    if (status == RN_OK && !(min <= max))
        status = rn_set_error(RN_ERR_FORMAT, "%s: %s has the range [%g, %g]", r->caller,
                              param->name, (double)min, (double)max);
    if (status == RN_OK) status = rn__read_count(r, param->value.size, &count, param->name);
    if (status == RN_OK && count != param->value.size)
        status = rn_set_error(RN_ERR_FORMAT, "%s: %s has %lu values, its layer needs %lu",
                              r->caller, param->name, (unsigned long)count,
                              (unsigned long)param->value.size);
    if (status == RN_OK) status = rn__param_alloc(param);
    if (status == RN_OK) status = rn__read_values(r, param->value.data, count, param->name);
    param->frozen = frozen;
    param->min = min;
    param->max = max;
    return status;
}

static int rn__read_stream(rn__reader *r, rn_rng *rng)
{
    uint32_t words[4];
    size_t count = 0;
    int status = rn__read_count(r, 4, &count, "a random stream"), k;
    if (status == RN_OK && count != 4)
        status = rn_set_error(RN_ERR_FORMAT, "%s: a random stream of %lu words, not 4", r->caller,
                              (unsigned long)count);
    for (k = 0; k < 4 && status == RN_OK; k++) status = rn__read_u32(r, &words[k]);
    if (status == RN_OK && (words[2] & 1u) == 0) /* PCG32 needs an odd increment */
        status = rn_set_error(RN_ERR_FORMAT, "%s: a random stream with an even increment",
                              r->caller);
    if (status != RN_OK) return status;
    rng->state = (uint64_t)words[1] << 32 | words[0];
    rng->increment = (uint64_t)words[3] << 32 | words[2];
    return RN_OK;
}

/* Rebuilds a layer from its hyper-parameters, then reads its parameters. */
static int rn__read_layer(rn__reader *r, rn_net *net)
{
    rn__layer_hyper h;
    rn_layer *layer;
    rn_tensor *state[2];
    char reason[sizeof rn__error_message];
    int type = 0, n_params = 0, n_state = 0, n_tensors = 0, has_stream = 0, k;
    int status = rn__read_int(r, 0, RN_MAX_DIM_SIZE, &type, "a layer type");
    if (status == RN_OK) status = rn__read_ints(r, h.ints, RN__MAX_HYPER, &h.n_ints, "settings");
    if (status == RN_OK)
        status = rn__read_floats(r, h.floats, RN__MAX_HYPER, &h.n_floats, "settings");
    if (status != RN_OK) return status;
    status = rn__layer_hyper_add(net, type, &h);
    if (status == RN_ERR_MEMORY) return status;
    if (status != RN_OK) {
        /* The file asked for a layer that cannot be: a format error. */
        memcpy(reason, rn__error_message, sizeof reason);
        return rn_set_error(RN_ERR_FORMAT, "%s: layer %d: %s", r->caller, net->n_layers + 1,
                            reason);
    }
    layer = net->layers[net->n_layers - 1];
    status = rn__read_int(r, layer->n_params, layer->n_params, &n_params, "a parameter count");
    for (k = 0; k < layer->n_params && status == RN_OK; k++)
        status = rn__read_param(r, &layer->params[k]);
    if (status == RN_OK) {
        n_tensors = rn__layer_state(layer, state);
        has_stream = rn__has_stream(layer, r->version);
        status = rn__read_int(r, n_tensors + has_stream, n_tensors + has_stream, &n_state,
                              "a state buffer count");
    }
    for (k = 0; k < n_tensors && status == RN_OK; k++)
        status = rn__read_tensor(r, state[k], 1, layer->name);
    if (status == RN_OK && has_stream) status = rn__read_stream(r, &layer->rng);
    return status == RN_OK ? rn__check_layer_state(layer, r->caller) : status;
}

static int rn__read_net(rn__reader *r, rn_net **out)
{
    int shape[RN__MAX_HYPER], ndim = 0, n_layers = 0, i;
    rn_net *net;
    int status = rn__read_ints(r, shape, 3, &ndim, "the sample shape");
    if (status == RN_OK)
        status = rn__check_sample_shape(ndim, shape, r->caller) == RN_OK ? RN_OK : RN_ERR_FORMAT;
    if (status == RN_OK) status = rn__read_int(r, 0, RN_MAX_DIM_SIZE, &n_layers, "the layer count");
    if (status != RN_OK) return status;
    net = rn_net_new(ndim, shape);
    if (net == NULL) return RN_ERR_MEMORY;
    net->make_params = NULL; /* parameters get storage once their counts are checked */
    for (i = 0; i < n_layers && status == RN_OK; i++) status = rn__read_layer(r, net);
    net->make_params = rn__make_params;
    if (status != RN_OK) {
        rn_net_free(net);
        return status;
    }
    *out = net;
    return RN_OK;
}

RN_API int rn_net_load_memory(const void *bytes, size_t size, rn_net **net)
{
    rn__reader r;
    rn_net *loaded = NULL;
    int status;
    if (net == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_net_load_memory: net is NULL");
    *net = NULL;
    status = rn__open_container(&r, bytes, size, rn__net_magic, "rn_net_load");
    if (status == RN_OK) status = rn__read_net(&r, &loaded);
    if (status == RN_OK) status = rn__close_container(&r);
    if (status != RN_OK) {
        rn_net_free(loaded);
        return status;
    }
    *net = loaded;
    return RN_OK;
}

RN_API int rn_net_load(const char *path, rn_net **net)
{
    unsigned char *bytes;
    size_t size = 0;
    int status;
    if (net == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_net_load: net is NULL");
    *net = NULL;
    status = rn__read_file(path, &bytes, &size);
    if (status != RN_OK) return status;
    status = rn_net_load_memory(bytes, size, net);
    RN_FREE(bytes);
    return status;
}

/* --- optimizer state ----------------------------------------------------- */

/* The state tensors the optimizer keeps for parameter i (moments, momentum
   buffers), in a fixed order; returns how many. */
static int rn__optim_state(const rn_optim *opt, int i, rn_tensor **state)
{
    int count = 0;
    if (opt->first[i].size > 0) state[count++] = &opt->first[i];
    if (opt->second[i].size > 0) state[count++] = &opt->second[i];
    return count;
}

/* The settings of rn_optim_desc that are not the kind, in a fixed order. */
enum { RN__OPTIM_INTS = 2, RN__OPTIM_FLOATS = 7 };

static void rn__optim_settings(const rn_optim_desc *d, int *ints, float *floats)
{
    ints[0] = (int)d->kind;
    ints[1] = d->nesterov;
    floats[0] = d->lr;
    floats[1] = d->momentum;
    floats[2] = d->dampening;
    floats[3] = d->weight_decay;
    floats[4] = d->beta1;
    floats[5] = d->beta2;
    floats[6] = d->eps;
}

static void rn__write_optim(rn__writer *w, const void *object)
{
    const rn_optim *opt = (const rn_optim *)object;
    int ints[RN__OPTIM_INTS], i, k;
    float floats[RN__OPTIM_FLOATS];
    uint64_t steps = (uint64_t)opt->steps;
    rn_tensor *state[2];
    rn__optim_settings(&opt->desc, ints, floats);
    rn__write_ints(w, ints, RN__OPTIM_INTS);
    rn__write_floats(w, floats, RN__OPTIM_FLOATS);
    rn__write_u32(w, (uint32_t)(steps & 0xFFFFFFFFu));
    rn__write_u32(w, (uint32_t)(steps >> 32));
    rn__write_u32(w, (uint32_t)opt->count);
    for (i = 0; i < opt->count; i++) {
        int n_state = rn__optim_state(opt, i, state);
        rn__write_f32(w, opt->lr[i]);
        rn__write_f32(w, opt->weight_decay[i]);
        rn__write_u32(w, (uint32_t)opt->updates[i]);
        rn__write_u32(w, (uint32_t)n_state);
        for (k = 0; k < n_state; k++) rn__write_floats(w, state[k]->data, state[k]->size);
    }
}

/* Reads optimizer state that must fit opt exactly. With commit 0 it only
   checks, so that a bad file leaves the optimizer as it was; with commit 1
   (on the same, checked bytes) it applies. */
static int rn__read_optim(rn__reader *r, rn_optim *opt, int commit)
{
    int ints[RN__MAX_HYPER] = {0}, expected_ints[RN__OPTIM_INTS], n_ints = 0, n_floats = 0;
    float floats[RN__MAX_HYPER] = {0}, expected_floats[RN__OPTIM_FLOATS], lr = 0.0f, decay = 0.0f;
    int count = 0, updates = 0;
    uint32_t steps_low = 0, steps_high = 0;
    rn_tensor *state[2];
    int i, k, n_state = 0;
    int status = rn__read_ints(r, ints, RN__MAX_HYPER, &n_ints, "optimizer settings");
    if (status == RN_OK)
        status = rn__read_floats(r, floats, RN__MAX_HYPER, &n_floats, "optimizer settings");
    rn__optim_settings(&opt->desc, expected_ints, expected_floats);
    if (status == RN_OK && (n_ints != RN__OPTIM_INTS || n_floats != RN__OPTIM_FLOATS ||
                            ints[0] != expected_ints[0] || ints[1] > 1))
        status = rn_set_error(RN_ERR_FORMAT, "%s: state of optimizer kind %d (%d and %d settings) "
                              "does not fit this kind %d optimizer", r->caller, ints[0], n_ints,
                              n_floats, expected_ints[0]);
    if (status == RN_OK) status = rn__read_u32(r, &steps_low);
    if (status == RN_OK) status = rn__read_u32(r, &steps_high);
    if (status == RN_OK && (steps_high != 0 || steps_low > 0x7FFFFFFFu))
        status = rn_set_error(RN_ERR_FORMAT, "%s: step count too large", r->caller);
    if (status == RN_OK)
        status = rn__read_int(r, opt->count, opt->count, &count, "the parameter count");
    for (i = 0; i < opt->count && status == RN_OK; i++) {
        int expected_state = rn__optim_state(opt, i, state);
        status = rn__read_values(r, &lr, 1, "a learning rate");
        if (status == RN_OK) status = rn__read_values(r, &decay, 1, "a weight decay");
        /* Format 1 kept one step count for every parameter. */
        updates = (int)steps_low;
        if (status == RN_OK && r->version >= 2)
            status = rn__read_int(r, 0, (int)steps_low, &updates, "a parameter's update count");
        if (status == RN_OK)
            status = rn__read_int(r, expected_state, expected_state, &n_state, "a state count");
        for (k = 0; k < n_state && status == RN_OK; k++)
            status = rn__read_tensor(r, state[k], commit, opt->params[i]->name);
        if (commit) {
            opt->lr[i] = lr;
            opt->weight_decay[i] = decay;
            opt->updates[i] = updates;
        }
    }
    if (status == RN_OK && commit) {
        opt->desc.nesterov = ints[1];
        opt->desc.lr = floats[0];
        opt->desc.momentum = floats[1];
        opt->desc.dampening = floats[2];
        opt->desc.weight_decay = floats[3];
        opt->desc.beta1 = floats[4];
        opt->desc.beta2 = floats[5];
        opt->desc.eps = floats[6];
        opt->steps = (long)steps_low;
    }
    return status;
}

RN_API int rn_optim_save_memory(const rn_optim *opt, void *buffer, size_t capacity, size_t *size)
{
    return rn__save_memory(rn__optim_magic, rn__write_optim, opt, buffer, capacity, size,
                           "rn_optim_save_memory");
}

RN_API int rn_optim_save(const rn_optim *opt, const char *path)
{
    return rn__save_file(rn__optim_magic, rn__write_optim, opt, path, "rn_optim_save");
}

RN_API int rn_optim_load_memory(rn_optim *opt, const void *bytes, size_t size)
{
    rn__reader r;
    int status;
    if (opt == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_optim_load: optimizer is NULL");
    status = rn__open_container(&r, bytes, size, rn__optim_magic, "rn_optim_load");
    if (status == RN_OK) status = rn__read_optim(&r, opt, 0);
    if (status == RN_OK) status = rn__close_container(&r);
    if (status != RN_OK) return status;
    r.at = 12;
    return rn__read_optim(&r, opt, 1);
}

RN_API int rn_optim_load(rn_optim *opt, const char *path)
{
    unsigned char *bytes;
    size_t size = 0;
    int status = rn__read_file(path, &bytes, &size);
    if (status != RN_OK) return status;
    status = rn_optim_load_memory(opt, bytes, size);
    RN_FREE(bytes);
    return status;
}

/* ===== 13. firmware ======================================================= */

/* --- C export ------------------------------------------------------------ */

/* CRC-32 of 32-bit words and floats' bit patterns, little-endian whatever
   the host, so the exporter and the board (rn_net_bind_params_checked,
   rn_qnet_check) agree. */
static uint32_t rn__crc32_word(uint32_t crc, uint32_t word)
{
    unsigned char bytes[4];
    bytes[0] = (unsigned char)(word & 0xFFu);
    bytes[1] = (unsigned char)(word >> 8 & 0xFFu);
    bytes[2] = (unsigned char)(word >> 16 & 0xFFu);
    bytes[3] = (unsigned char)(word >> 24 & 0xFFu);
    return rn_crc32(crc, bytes, sizeof bytes);
}

static uint32_t rn__crc32_floats(uint32_t crc, const float *values, size_t count)
{
    size_t j;
    for (j = 0; j < count; j++) {
        uint32_t bits;
        memcpy(&bits, &values[j], sizeof bits);
        crc = rn__crc32_word(crc, bits);
    }
    return crc;
}

/* A float as a C literal that reads back bit-exact: 9 significant digits
   identify every float, and the literal needs a '.' or an exponent before
   its 'f'. */
static void rn__export_float(FILE *file, float value)
{
    char text[32];
    snprintf(text, sizeof text, "%.9g", (double)value);
    fprintf(file, strpbrk(text, ".e") ? "%sf" : "%s.0f", text);
}

/* name_conv1_weight for label "conv1.weight". */
static void rn__export_array_name(FILE *file, const char *name, const char *label)
{
    const char *c;
    fprintf(file, "%s_", name);
    for (c = label; *c != '\0'; c++) fputc(*c == '.' ? '_' : *c, file);
}

static void rn__export_values(FILE *file, const char *name, const char *label,
                              const rn_tensor *values)
{
    size_t j;
    fprintf(file, "static const float ");
    rn__export_array_name(file, name, label);
    fprintf(file, "[%lu] = {", (unsigned long)values->size);
    for (j = 0; j < values->size; j++) {
        fputs(j % 6 == 0 ? "\n    " : " ", file);
        rn__export_float(file, values->data[j]);
        if (j + 1 < values->size) fputc(',', file);
    }
    fprintf(file, "\n};\n\n");
}

/* A batch norm's running statistics, which its builder copies into the
   arena: "name_bn1_running_mean", "name_bn1_running_var". */
static const char *const rn__norm_state_names[2] = {"running_mean", "running_var"};

static void rn__export_state(FILE *file, const char *name, const rn_layer *layer)
{
    rn_tensor *state[2];
    char label[48];
    int k, n = rn__layer_state((rn_layer *)layer, state);
    for (k = 0; k < n; k++) {
        snprintf(label, sizeof label, "%s.%s", layer->name, rn__norm_state_names[k]);
        rn__export_values(file, name, label, state[k]);
    }
}

/* The rn_net_add_* call that rebuilds layer, from its hyper-parameters. */
static void rn__export_layer(FILE *file, const rn_layer *layer, const char *name)
{
    static const char *const calls[] = {"rn_net_add_conv2d(net, %d, %d, %d, %d)",
                                        "rn_net_add_linear(net, %d)",
                                        "rn_net_add_maxpool2d(net, %d, %d)",
                                        "rn_net_add_avgpool2d(net, %d, %d)",
                                        "rn_net_add_flatten(net)"};
    const char *guard = "    if (status == RN_OK) ";
    rn__layer_hyper h;
    int k;
    rn__layer_hyper_get(layer, &h);
    if (layer->type == RN_LAYER_BATCHNORM) { /* one that could not be folded */
        fprintf(file, "%sstatus = rn_net_add_batchnorm_ex(net, ", guard);
        rn__export_float(file, h.floats[0]);
        fputs(", ", file);
        rn__export_float(file, h.floats[1]);
        fprintf(file, ");\n    if (status == RN_OK) {\n"
                      "        rn_layer *norm = net->layers[net->n_layers - 1];\n");
        for (k = 0; k < 2; k++) {
            fprintf(file, "        memcpy(norm->%s.data, ", rn__norm_state_names[k]);
            fprintf(file, "%s_%s_%s, sizeof ", name, layer->name, rn__norm_state_names[k]);
            fprintf(file, "%s_%s_%s);\n", name, layer->name, rn__norm_state_names[k]);
        }
        fprintf(file, "    }\n");
        return;
    }
    if (layer->type == RN_LAYER_DROPOUT) { /* the identity in inference; kept for the names */
        fprintf(file, "%sstatus = rn_net_add_dropout(net, ", guard);
        rn__export_float(file, h.floats[0]);
        fprintf(file, ");\n");
        return;
    }
    if (layer->type != RN_LAYER_ACTIVATION) {
        fprintf(file, "%sstatus = ", guard);
        fprintf(file, calls[layer->type], h.ints[0], h.ints[1], h.ints[2], h.ints[3]);
        fprintf(file, ";\n");
        if ((layer->type == RN_LAYER_CONV2D || layer->type == RN_LAYER_LINEAR) && !layer->has_bias)
            fprintf(file, "%sstatus = rn_net_remove_bias(net);\n", guard);
        return;
    }
    fprintf(file, "    if (status == RN_OK) {\n");
    if (h.n_floats > 1) {
        fprintf(file, "        static const float init[%d] = {", h.n_floats - 1);
        for (k = 1; k < h.n_floats; k++) {
            rn__export_float(file, h.floats[k]);
            fputs(k + 1 < h.n_floats ? ", " : "};\n", file);
        }
    }
    fprintf(file, "        const rn_act_desc desc = {.kind = (rn_act_kind)%d /* %s */, "
                  ".share = (rn_share)%d,\n                                  .init = %s, "
                  ".unnormalized = %d, .slope = ",
            h.ints[0], rn_act_kind_name(layer->act.kind), h.ints[1],
            h.n_floats > 1 ? "init" : "NULL", h.ints[3]);
    rn__export_float(file, h.floats[0]);
    fprintf(file, "};\n");
    fprintf(file, "        status = rn_net_add_activation_ex(net, &desc);\n    }\n");
}

/* An arena network's buffer plan. Layer 0 writes the first buffer (its
   input is the caller's, or in the second buffer); after it, a layer that
   maps each value to the value in its place writes over its input, and any
   other layer writes the buffer its input is not in. */
static int rn__arena_in_place(const rn_layer *layer)
{
    return layer->type == RN_LAYER_ACTIVATION || layer->type == RN_LAYER_BATCHNORM ||
           layer->type == RN_LAYER_DROPOUT || layer->type == RN_LAYER_FLATTEN;
}

/* Which buffer (0 or 1) layer writes: a walk from the start, which for the
   few layers of a network on a microcontroller costs nothing worth storing. */
static int rn__arena_buffer(const rn_net *net, int layer)
{
    int i, buffer = 0;
    for (i = 1; i <= layer; i++) buffer = rn__arena_in_place(net->layers[i]) ? buffer : 1 - buffer;
    return buffer;
}

/* Values per sample each buffer holds: the largest output planned into it,
   and for the second the input as well. */
static void rn__arena_plan(const rn_net *net, size_t floats[2])
{
    int i;
    floats[0] = 0;
    floats[1] = rn__dims_product(net->in_ndim, net->in_shape);
    for (i = 0; i < net->n_layers; i++) {
        size_t out = rn__dims_product(net->layers[i]->out_ndim, net->layers[i]->out_shape);
        int buffer = rn__arena_buffer(net, i);
        floats[buffer] = out > floats[buffer] ? out : floats[buffer];
    }
}

/* The parameters a layer's block has room for: its own, and the bias's
   place that rn_net_remove_bias leaves empty in a convolution or linear
   layer made with one. */
static int rn__layer_block_params(const rn_layer *layer)
{
    int weighted = layer->type == RN_LAYER_CONV2D || layer->type == RN_LAYER_LINEAR;
    return layer->n_params + (weighted && !layer->has_bias);
}

/* What RN_NET_ARENA_BYTES leaves out: each batch norm's four per-channel
   tensors (rn__net_state_new). */
static size_t rn__arena_state_bytes(const rn_net *net)
{
    size_t bytes = 0;
    int i;
    for (i = 0; i < net->n_layers; i++)
        if (net->layers[i]->type == RN_LAYER_BATCHNORM)
            bytes += 4u * RN__ARENA_ROUND((size_t)net->layers[i]->in_shape[0] * sizeof(float));
    return bytes;
}

static int rn__is_identifier(const char *name)
{
    const char *c;
    if (name == NULL || strlen(name) == 0 || strlen(name) > 64 || (*name >= '0' && *name <= '9'))
        return 0;
    for (c = name; *c != '\0'; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_'))
            return 0;
    return 1;
}

/* The checksum rn_net_bind_params_checked verifies: every parameter's
   values, in rn_net_param order. */
static uint32_t rn__params_crc32(const rn_net *net)
{
    uint32_t crc = 0;
    int i, k;
    for (i = 0; i < net->n_layers; i++)
        for (k = 0; k < net->layers[i]->n_params; k++)
            crc = rn__crc32_floats(crc, net->layers[i]->params[k].value.data,
                                   net->layers[i]->params[k].value.size);
    return crc;
}

/* The parameters' array names, one per line: "prefix name suffix,". */
static void rn__export_param_list(FILE *file, const rn_net *net, const char *name,
                                  const char *prefix, const char *suffix)
{
    int i, k;
    for (i = 0; i < net->n_layers; i++)
        for (k = 0; k < net->layers[i]->n_params; k++) {
            fprintf(file, "\n        %s", prefix);
            rn__export_array_name(file, name, net->layers[i]->params[k].name);
            fprintf(file, "%s,", suffix);
        }
}

static void rn__export_header(FILE *file, const rn_net *net, const char *name, const char *upper)
{
    size_t floats[2];
    char shape[64];
    int dims[RN_MAX_DIMS], i, block_params = 0;
    dims[0] = 1;
    memcpy(dims + 1, net->in_shape, (size_t)net->in_ndim * sizeof(int));
    rn__dims_string(net->in_ndim + 1, dims, shape, sizeof shape);
    fprintf(file,
            "/* %s: a relunet network exported by rn_net_export_c, its parameters as\n"
            "   constant arrays that stay in flash. Include relunet.h first (with\n"
            "   RELUNET_IMPLEMENTATION in one file of the program), then:\n\n"
            "       static unsigned char memory[%s_ARENA_BYTES(1)];\n"
            "       rn_arena arena;\n"
            "       rn_net *net;\n"
            "       rn_arena_init(&arena, memory, sizeof memory);\n"
            "       status = %s_build(&arena, 1, &net);  (not RN_OK: rn_last_error() says why)\n"
            "       rn_net_forward(net, &input, RN_EVAL);   (input: shape %s)\n\n"
            "   Layers:", name, upper, name, shape);
    for (i = 0; i < net->n_layers; i++) {
        rn__dims_string(net->layers[i]->out_ndim, net->layers[i]->out_shape, shape, sizeof shape);
        fprintf(file, "%s %s %s", i % 4 == 0 ? "\n  " : ",", net->layers[i]->name, shape);
        block_params += rn__layer_block_params(net->layers[i]);
    }
    fprintf(file, "\n*/\n#ifndef %s_MODEL_H\n#define %s_MODEL_H\n\n", upper, upper);
    rn__arena_plan(net, floats);
    fprintf(file, "#define %s_ARENA_BYTES(max_batch) \\\n    (RN_NET_ARENA_BYTES(%d, %d, %lu, %lu, "
                  "(max_batch)) + %lu)\n", upper, net->n_layers, block_params,
            (unsigned long)floats[0], (unsigned long)floats[1],
            (unsigned long)rn__arena_state_bytes(net));
    fprintf(file, "/* CRC-32 of the parameters' bits: the builder refuses values that differ. */\n"
                  "#define %s_PARAMS_CRC32 0x%08lXu\n\n", upper, (unsigned long)rn__params_crc32(net));
}

static void rn__export_build(FILE *file, const rn_net *net, const char *name, const char *upper)
{
    int i;
    fprintf(file, "static int %s_build(rn_arena *arena, int max_batch, rn_net **built)\n{\n", name);
    fprintf(file, "    static const int sample_shape[%d] = {", net->in_ndim);
    for (i = 0; i < net->in_ndim; i++) fprintf(file, "%s%d", i ? ", " : "", net->in_shape[i]);
    fprintf(file, "};\n    static const float *const params[] = {");
    rn__export_param_list(file, net, name, "", "");
    fprintf(file, "\n        NULL\n    };\n    static const size_t counts[] = {");
    rn__export_param_list(file, net, name, "sizeof ", " / sizeof(float)");
    fprintf(file, "\n        0\n    };\n");
    fprintf(file, "    rn_net *net = rn_net_new_arena(arena, %d, sample_shape, %d, max_batch);\n",
            net->in_ndim, net->n_layers);
    fprintf(file, "    int status = net != NULL ? RN_OK : RN_ERR_MEMORY;\n");
    for (i = 0; i < net->n_layers; i++) rn__export_layer(file, net->layers[i], name);
    fprintf(file, "    if (status == RN_OK)\n        status = rn_net_bind_params_checked(net, %d, params, "
                  "counts, %s_PARAMS_CRC32);\n", rn_net_param_count(net), upper);
    fprintf(file, "    *built = status == RN_OK ? net : NULL;\n    return status;\n}\n\n");
}

/* --- batch norm folding --- */

static int rn__folds_into_previous(const rn_net *net, int i)
{
    return i > 0 && net->layers[i]->type == RN_LAYER_BATCHNORM &&
           (net->layers[i - 1]->type == RN_LAYER_CONV2D ||
            net->layers[i - 1]->type == RN_LAYER_LINEAR);
}

/* copy has layer's kind and shapes (and perhaps a bias layer lacks). */
static void rn__layer_copy_values(rn_layer *copy, const rn_layer *layer)
{
    rn_tensor *from[2], *to[2];
    int k, n = rn__layer_state((rn_layer *)layer, from);
    rn__layer_state(copy, to);
    for (k = 0; k < layer->n_params; k++)
        memcpy(copy->params[k].value.data, layer->params[k].value.data,
               layer->params[k].value.size * sizeof(float));
    for (k = 0; k < n; k++) memcpy(to[k]->data, from[k]->data, from[k]->size * sizeof(float));
}

/* copy = layer (a convolution or linear layer) followed by norm, in double
   so that the folded values are the nearest floats to the exact ones. */
static void rn__fold_norm(rn_layer *copy, const rn_layer *layer, const rn_layer *norm)
{
    size_t fan = layer->params[0].value.size / (size_t)layer->units, j;
    int c;
    for (c = 0; c < layer->units; c++) {
        double s = norm->params[0].value.data[c] /
                   sqrt((double)norm->running_var.data[c] + (double)norm->eps);
        double bias = layer->has_bias ? layer->params[1].value.data[c] : 0.0;
        const float *weights = layer->params[0].value.data + (size_t)c * fan;
        float *folded = copy->params[0].value.data + (size_t)c * fan;
        for (j = 0; j < fan; j++) folded[j] = (float)(weights[j] * s);
        copy->params[1].value.data[c] =
            (float)((bias - norm->running_mean.data[c]) * s + norm->params[1].value.data[c]);
    }
}

RN_API int rn_net_fold_batchnorm(const rn_net *net, rn_net **folded)
{
    rn_net *copy;
    int i, status = RN_OK;
    if (folded != NULL) *folded = NULL;
    if (net == NULL || folded == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_fold_batchnorm: NULL network or result");
    copy = rn_net_new(net->in_ndim, net->in_shape);
    if (copy == NULL) return RN_ERR_MEMORY;
    for (i = 0; i < net->n_layers && status == RN_OK; i++) {
        const rn_layer *layer = net->layers[i];
        int folds = i + 1 < net->n_layers && rn__folds_into_previous(net, i + 1);
        rn__layer_hyper h;
        if (rn__folds_into_previous(net, i)) continue;
        rn__layer_hyper_get(layer, &h);
        if (folds) h.ints[h.n_ints - 1] = 1; /* has_bias, the last setting of both kinds */
        status = rn__layer_hyper_add(copy, (int)layer->type, &h);
        if (status != RN_OK) break;
        rn__layer_copy_values(copy->layers[copy->n_layers - 1], layer);
        if (folds) rn__fold_norm(copy->layers[copy->n_layers - 1], layer, net->layers[i + 1]);
    }
    if (status != RN_OK) {
        rn_net_free(copy);
        return status;
    }
    *folded = copy;
    return RN_OK;
}

/* --- writing the header --- */

static int rn__check_finite(const char *label, const rn_tensor *values)
{
    size_t j;
    for (j = 0; j < values->size; j++)
        if (!isfinite(values->data[j]))
            return rn_set_error(RN_ERR_NUMERIC, "rn_net_export_c: %s[%lu] is not finite", label,
                                (unsigned long)j);
    return RN_OK;
}

static int rn__export_folded(const rn_net *net, const char *path, const char *name)
{
    char upper[72];
    rn__output out;
    FILE *file;
    rn_tensor *state[2];
    int status = RN_OK, i, k, n;
    size_t j;
    for (i = 0; i < net->n_layers && status == RN_OK; i++) {
        for (k = 0; k < net->layers[i]->n_params && status == RN_OK; k++)
            status = rn__check_finite(net->layers[i]->params[k].name,
                                      &net->layers[i]->params[k].value);
        n = rn__layer_state(net->layers[i], state);
        for (k = 0; k < n && status == RN_OK; k++)
            status = rn__check_finite(net->layers[i]->name, state[k]);
    }
    if (status != RN_OK) return status;
    for (j = 0; j <= strlen(name); j++)
        upper[j] = name[j] >= 'a' && name[j] <= 'z' ? (char)(name[j] - 'a' + 'A') : name[j];
    if (rn__output_open(&out, path, "w", "rn_net_export_c") != RN_OK) return RN_ERR_IO;
    file = out.file;
    rn__export_header(file, net, name, upper);
    for (i = 0; i < net->n_layers; i++) {
        for (k = 0; k < net->layers[i]->n_params; k++)
            rn__export_values(file, name, net->layers[i]->params[k].name,
                              &net->layers[i]->params[k].value);
        rn__export_state(file, name, net->layers[i]);
    }
    rn__export_build(file, net, name, upper);
    fprintf(file, "#endif\n");
    return rn__output_close(&out, RN_OK, path, "rn_net_export_c");
}

RN_API int rn_net_export_c(const rn_net *net, const char *path, const char *name)
{
    rn_net *folded;
    int status = rn__check_savable(net, "rn_net_export_c");
    if (status != RN_OK) return status;
    if (path == NULL || !rn__is_identifier(name))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_export_c: NULL path, or the name is not a C "
                            "identifier of at most 64 characters");
    status = rn_net_fold_batchnorm(net, &folded);
    if (status == RN_OK) status = rn__export_folded(folded, path, name);
    rn_net_free(folded);
    return status;
}

/* --- heap-free inference ------------------------------------------------- */

RN_API void rn_arena_init(rn_arena *arena, void *memory, size_t size)
{
    arena->memory = (unsigned char *)memory;
    arena->size = memory != NULL ? size : 0;
    arena->used = 0;
}

RN_API void *rn_arena_alloc(rn_arena *arena, size_t bytes)
{
    size_t padding, rounded, left;
    unsigned char *block;
    if (arena == NULL || arena->memory == NULL || bytes > (size_t)-1 - RN__ALIGNMENT) {
        rn_set_error(RN_ERR_ARGUMENT, "rn_arena_alloc: no arena or %lu bytes", (unsigned long)bytes);
        return NULL;
    }
    left = arena->size - arena->used;
    padding = (RN__ALIGNMENT - (uintptr_t)(arena->memory + arena->used) % RN__ALIGNMENT) %
              RN__ALIGNMENT;
    rounded = RN__ARENA_ROUND(bytes);
    if (padding > left || rounded > left - padding) {
        rn_set_error(RN_ERR_MEMORY, "rn_arena_alloc: %lu bytes do not fit (%lu of %lu used)",
                     (unsigned long)bytes, (unsigned long)arena->used, (unsigned long)arena->size);
        return NULL;
    }
    block = arena->memory + arena->used + padding;
    arena->used += padding + rounded;
    memset(block, 0, bytes);
    return block;
}

RN_API rn_net *rn_net_new_arena(rn_arena *arena, int sample_ndim, const int *sample_shape,
                                int max_layers, int max_batch)
{
    rn_net *net;
    if (arena == NULL || max_layers < 1 || max_batch < 1 || max_layers > RN_MAX_DIM_SIZE) {
        rn_set_error(RN_ERR_ARGUMENT, "rn_net_new_arena: no arena, or %d layers, batch %d (need "
                     ">= 1)", max_layers, max_batch);
        return NULL;
    }
    if (rn__check_sample_shape(sample_ndim, sample_shape, "rn_net_new_arena") != RN_OK) return NULL;
    net = (rn_net *)rn_arena_alloc(arena, sizeof *net);
    if (net == NULL) return NULL;
    net->layers = (rn_layer **)rn_arena_alloc(arena, (size_t)max_layers * sizeof *net->layers);
    net->outputs = (rn_tensor *)rn_arena_alloc(arena, (size_t)max_layers * sizeof *net->outputs);
    if (net->layers == NULL || net->outputs == NULL) return NULL;
    net->capacity = max_layers;
    net->in_ndim = sample_ndim;
    memcpy(net->in_shape, sample_shape, (size_t)sample_ndim * sizeof(int));
    net->make_params = NULL;
    net->arena = arena;
    net->max_batch = max_batch;
    return net;
}

static int rn__arena_net_reserve(rn_net *net)
{
    return rn_set_error(RN_ERR_ARGUMENT, "rn_net: the arena network was made for %d layers",
                        net->capacity);
}

/* A layer and its parameters in one block, which RN_FREE frees whole. */
static rn_layer *rn__net_alloc_layer(rn_net *net, int n_params)
{
    size_t bytes = sizeof(rn_layer) + (size_t)n_params * sizeof(rn_param);
    return (rn_layer *)(net->arena != NULL ? rn_arena_alloc(net->arena, bytes) : RN_MALLOC(bytes));
}

RN_API int rn_net_bind_params(rn_net *net, const float *const *values)
{
    int i, count = rn_net_param_count(net);
    if (net == NULL || net->arena == NULL || values == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_bind_params: needs an arena network and values");
    for (i = 0; i < count; i++)
        if (values[i] == NULL)
            return rn_set_error(RN_ERR_ARGUMENT, "rn_net_bind_params: no values for %s",
                                rn_net_param(net, i)->name);
    /* Inference only reads parameters, so const arrays (in flash) can back them. */
    for (i = 0; i < count; i++) rn_net_param(net, i)->value.data = (float *)values[i];
    return RN_OK;
}

RN_API int rn_net_bind_params_checked(rn_net *net, int n_values, const float *const *values,
                                      const size_t *counts, uint32_t crc32)
{
    uint32_t crc = 0;
    int i, count = rn_net_param_count(net);
    if (net == NULL || net->arena == NULL || values == NULL || counts == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_bind_params_checked: needs an arena network, "
                            "values and counts");
    if (n_values != count)
        return rn_set_error(RN_ERR_FORMAT, "rn_net_bind_params_checked: %d arrays for %d "
                            "parameters", n_values, count);
    for (i = 0; i < count; i++) {
        const rn_param *param = rn_net_param(net, i);
        if (values[i] == NULL || counts[i] != param->value.size)
            return rn_set_error(RN_ERR_FORMAT, "rn_net_bind_params_checked: %s has %lu values, "
                                "the layer needs %lu", param->name, (unsigned long)counts[i],
                                (unsigned long)param->value.size);
        crc = rn__crc32_floats(crc, values[i], counts[i]);
    }
    if (crc != crc32)
        return rn_set_error(RN_ERR_FORMAT, "rn_net_bind_params_checked: the values' CRC-32 is "
                            "0x%08lX, the header says 0x%08lX", (unsigned long)crc,
                            (unsigned long)crc32);
    return rn_net_bind_params(net, values);
}

RN_API size_t rn_net_arena_bytes(const rn_net *net, int max_batch)
{
    size_t floats[2], bytes;
    int i;
    if (net == NULL || max_batch < 1) return 0;
    rn__arena_plan(net, floats);
    bytes = RN__ARENA_BYTES_BESIDE_LAYERS(net->n_layers, floats[0], floats[1], max_batch);
    for (i = 0; i < net->n_layers; i++)
        bytes += RN__ARENA_ROUND(sizeof(rn_layer) +
                                 (size_t)rn__layer_block_params(net->layers[i]) * sizeof(rn_param));
    return bytes + rn__arena_state_bytes(net);
}

/* The two buffers, taken from the arena once. */
static int rn__arena_buffers_take(rn_net *net)
{
    size_t floats[2];
    int k;
    if (net->arena_outputs[0] != NULL) return RN_OK;
    rn__arena_plan(net, floats);
    for (k = 0; k < 2; k++) {
        net->arena_outputs[k] =
            (float *)rn_arena_alloc(net->arena, (size_t)net->max_batch * floats[k] * sizeof(float));
        if (net->arena_outputs[k] == NULL) {
            net->arena_outputs[0] = NULL;
            return rn_set_error(RN_ERR_MEMORY, "rn_net_forward: the arena is too small for the "
                                "buffers (rn_net_arena_bytes says %lu bytes)",
                                (unsigned long)rn_net_arena_bytes(net, net->max_batch));
        }
    }
    return RN_OK;
}

RN_API float *rn_net_arena_input(rn_net *net)
{
    if (net == NULL || net->arena == NULL || net->n_layers == 0) {
        rn_set_error(RN_ERR_ARGUMENT, "rn_net_arena_input: needs an arena network with layers");
        return NULL;
    }
    return rn__arena_buffers_take(net) == RN_OK ? net->arena_outputs[1] : NULL;
}

/* Before an arena network's forward pass: only inference, only bound
   parameters, and the output buffers taken from the arena once. */
static int rn__arena_forward_begin(rn_net *net, const rn_tensor *x, rn_mode mode)
{
    int i, count = rn_net_param_count(net);
    if (mode != RN_EVAL || x->shape[0] > net->max_batch)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_forward: an arena network does inference "
                            "(RN_EVAL) on batches of at most %d, not %d", net->max_batch,
                            x->shape[0]);
    for (i = 0; i < count; i++)
        if (rn_net_param(net, i)->value.data == NULL)
            return rn_set_error(RN_ERR_ARGUMENT, "rn_net_forward: %s has no values; call "
                                "rn_net_bind_params", rn_net_param(net, i)->name);
    return rn__arena_buffers_take(net);
}

/* Layer i of an arena network writes the buffer rn__arena_buffer plans. */
static void rn__arena_output_bind(rn_net *net, int layer, int batch)
{
    const rn_layer *l = net->layers[layer];
    int shape[RN_MAX_DIMS];
    shape[0] = batch;
    memcpy(shape + 1, l->out_shape, (size_t)l->out_ndim * sizeof(int));
    net->outputs[layer] =
        rn_tensor_view(net->arena_outputs[rn__arena_buffer(net, layer)], l->out_ndim + 1, shape);
}

/* --- int8 quantisation --------------------------------------------------- */

RN_API rn_qparams rn_qparams_from_range(float min, float max)
{
    /* PyTorch's MinMaxObserver for qint8, per tensor, in float32. */
    float low = min < 0.0f ? min : 0.0f, high = max > 0.0f ? max : 0.0f, zero;
    rn_qparams params;
    params.scale = (high - low) / 255.0f;
    if (!(params.scale >= FLT_EPSILON)) params.scale = FLT_EPSILON;
    zero = -128.0f - rintf(low / params.scale);
    params.zero_point = zero < -128.0f ? -128 : zero > 127.0f ? 127 : (int32_t)zero;
    return params;
}

static int8_t rn__saturate_int8(int32_t value)
{
    return (int8_t)(value < -128 ? -128 : value > 127 ? 127 : value);
}

RN_API int8_t rn_quantize_value(float value, rn_qparams params)
{
    float steps = rintf(value / params.scale);
    if (!(steps > -512.0f)) return -128; /* NaN too: no int8 stands for it */
    if (steps > 512.0f) return 127;
    return rn__saturate_int8(params.zero_point + (int32_t)steps);
}

RN_API float rn_dequantize_value(int8_t value, rn_qparams params)
{
    return params.scale * (float)(value - params.zero_point);
}

RN_API int rn_quantize_multiplier(double factor, rn_qmultiplier *multiplier)
{
    int exponent;
    double fraction, fixed;
    if (multiplier == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_quantize_multiplier: NULL");
    multiplier->multiplier = 0;
    multiplier->shift = 0;
    if (!isfinite(factor) || fabs(factor) >= 1073741824.0)
        return rn_set_error(RN_ERR_NUMERIC, "rn_quantize_multiplier: factor %g is not finite or "
                            "not below 2^30 in magnitude", factor);
    if (factor == 0.0) return RN_OK;
    fraction = frexp(factor, &exponent); /* 0.5 <= |fraction| < 1 */
    fixed = round(fraction * 2147483648.0);
    if (fabs(fixed) == 2147483648.0) { /* rounded up to 1: 2^30 2^(exponent + 1 - 31) */
        fixed /= 2.0;
        exponent++;
    }
    if (exponent < -31) return RN_OK; /* below 2^-32: every int32 value times it rounds to 0 */
    multiplier->multiplier = (int32_t)fixed;
    multiplier->shift = exponent;
    return RN_OK;
}

/* gemmlowp's SaturatingRoundingDoublingHighMul: the high 32 bits of 2 a b,
   rounded to nearest; the one product that overflows saturates. gemmlowp
   adds 2^30 (1 - 2^30 below 0) and divides by 2^31 towards zero; for every
   product that is floor((a b + 2^30) / 2^31), one 64-bit add and shift
   (~(~t >> 31) shifts a negative t arithmetically in portable C). */
static RN__INLINE int32_t rn__rounding_doubling_high_mul(int32_t a, int32_t b)
{
    int64_t t = (int64_t)a * (int64_t)b + ((int64_t)1 << 30);
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    return (int32_t)(t >= 0 ? t >> 31 : ~(~t >> 31));
}

/* gemmlowp's RoundingDivideByPOT: x / 2^exponent (0..31), half away from
   zero. ~(~x >> e) is an arithmetic shift of a negative x in portable C. */
static RN__INLINE int32_t rn__rounding_divide_by_pot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    int32_t remainder = x & mask, threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    int32_t floor = x >= 0 ? x >> exponent : ~(~x >> exponent);
    return floor + (remainder > threshold ? 1 : 0);
}

/* A factor of 1 or more (shift > 0): the value shifted left, saturated,
   then multiplied. Rare (an activation that widens its range). */
static int32_t rn__qmultiply_widening(int32_t value, rn_qmultiplier multiplier)
{
    int64_t shifted = (int64_t)value * ((int64_t)1 << multiplier.shift);
    value = shifted > INT32_MAX ? INT32_MAX : shifted < INT32_MIN ? INT32_MIN : (int32_t)shifted;
    return rn__rounding_doubling_high_mul(value, multiplier.multiplier);
}

/* The usual factor is below 1 (shift <= 0): only the rounding shift right,
   cheaper on a Cortex-M than a 64-bit shift left by 0. Inline, it saves the
   int8 kernels a call per output: on a Cortex-M4F a requantisation took
   51 instructions as a call. */
static RN__INLINE int32_t rn__qmultiply(int32_t value, rn_qmultiplier multiplier)
{
    if (multiplier.shift > 0) return rn__qmultiply_widening(value, multiplier);
    return rn__rounding_divide_by_pot(rn__rounding_doubling_high_mul(value, multiplier.multiplier),
                                      -multiplier.shift);
}

RN_API int32_t rn_qmultiplier_apply(int32_t value, rn_qmultiplier multiplier)
{
    return rn__qmultiply(value, multiplier);
}

/* --- the int8 kernels (one sample) --- */

static RN__INLINE int8_t rn__requantize(int32_t accumulator, rn_qmultiplier multiplier, int32_t zero_point)
{
    int32_t scaled = rn__qmultiply(accumulator, multiplier);
    /* zero_point is in [-128, 127]: clamp before adding, so nothing overflows. */
    if (scaled > 255) scaled = 255;
    if (scaled < -255) scaled = -255;
    return rn__saturate_int8(scaled + zero_point);
}

/* An int8 convolution computes one output position at a time: its input
   window is gathered once, as x - zero point in int16 (padding gives 0),
   and then serves every output channel, whose weights are contiguous. The
   window (in whole kernel rows) and the sums live on the stack in blocks,
   so any layer fits in a small, fixed stack. On a Cortex-M4F the study
   net's second convolution took 786,000 instructions walking the window
   for each channel, 443,000 gathering it (300,000 with the DSP dot
   product below). */
enum { RN__QCONV_TAPS = 256, RN__QCONV_CHANNELS = 32 };

/* column = rows first .. first + count of the window at (top, left), a row
   being k taps of one input channel, in the weights' order. */
static void rn__qconv_gather(const rn_qlayer *layer, const int8_t *x, int top, int left,
                             int first, int count, int16_t *column)
{
    int k = layer->kernel, height = layer->in_shape[1], width = layer->in_shape[2];
    int inside = top >= 0 && top + k <= height && left >= 0 && left + k <= width;
    int32_t zero = layer->in.zero_point;
    int r, j;
    for (r = first; r < first + count; r++) {
        int row = top + r % k, inside_row = row < 0 ? 0 : row >= height ? height - 1 : row;
        const int8_t *line = x + ((size_t)(r / k) * height + (size_t)inside_row) * width;
        if (inside) { /* most windows: no tap to test */
            for (j = 0; j < k; j++) *column++ = (int16_t)(line[left + j] - zero);
            continue;
        }
        for (j = 0; j < k; j++) {
            int col = left + j;
            *column++ = (int16_t)(row < 0 || row >= height || col < 0 || col >= width ? 0
                                                                                   : line[col] - zero);
        }
    }
}

/* sum + w x over count taps. A function of its own, so that its few
   variables stay in registers on a Cortex-M instead of spilling inside the
   layer's loop nest. */
static RN__NOINLINE int32_t rn__qdot_scalar(const int8_t *w, const int16_t *x, int count, int32_t sum)
{
    const int16_t *end = x + count;
    while (x < end) sum += (int32_t)*w++ * *x++;
    return sum;
}

#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
/* Cortex-M4, M7, M33 (the DSP extension): four taps per step, as CMSIS-NN
   does it. Four int8 weights load as one word; SXTB16 sign-extends bytes
   0 and 2 (and, rotated, 1 and 3) into two int16 halves, PKHBT/PKHTB pair
   them as (w0, w1) and (w2, w3) to match the int16 window, and each SMLAD
   adds two products. The sums are the scalar loop's exactly (the
   products and the int32 total are the same integers); make
   test-firmware checks both against each other on awkward counts. */
static RN__NOINLINE int32_t rn__qdot(const int8_t *w, const int16_t *x, int count)
{
    int32_t sum = 0;
    uint32_t weights, even, odd, low, high, x01, x23;
    for (; count >= 4; count -= 4, w += 4, x += 4) {
        memcpy(&weights, w, 4);
        memcpy(&x01, x, 4);
        memcpy(&x23, x + 2, 4);
        __asm__("sxtb16 %0, %1" : "=r"(even) : "r"(weights));
        __asm__("sxtb16 %0, %1, ror #8" : "=r"(odd) : "r"(weights));
        __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(low) : "r"(even), "r"(odd));
        __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(high) : "r"(odd), "r"(even));
        __asm__("smlad %0, %1, %2, %3" : "=r"(sum) : "r"(low), "r"(x01), "r"(sum));
        __asm__("smlad %0, %1, %2, %3" : "=r"(sum) : "r"(high), "r"(x23), "r"(sum));
    }
    return count > 0 ? rn__qdot_scalar(w, x, count, sum) : sum; /* most counts leave no tail */
}
#else
static int32_t rn__qdot(const int8_t *w, const int16_t *x, int count)
{
    return rn__qdot_scalar(w, x, count, 0);
}
#endif

static void rn__qconv_forward(const rn_qlayer *layer, const int8_t *x, int8_t *y)
{
    int16_t column[RN__QCONV_TAPS];
    int32_t sums[RN__QCONV_CHANNELS];
    int k = layer->kernel, out_width = layer->out_shape[2], positions = layer->out_shape[1] * out_width;
    int rows = layer->in_shape[0] * k, rows_per_block = RN__QCONV_TAPS / k, p, c0, c, r0;
    for (p = 0; p < positions; p++) {
        int top = p / out_width * layer->stride - layer->padding;
        int left = p % out_width * layer->stride - layer->padding;
        for (c0 = 0; c0 < layer->channels; c0 += RN__QCONV_CHANNELS) {
            int channels = layer->channels - c0 < RN__QCONV_CHANNELS ? layer->channels - c0
                                                                      : RN__QCONV_CHANNELS;
            for (c = 0; c < channels; c++) sums[c] = layer->bias[c0 + c];
            for (r0 = 0; r0 < rows; r0 += rows_per_block) {
                int count = rows - r0 < rows_per_block ? rows - r0 : rows_per_block;
                rn__qconv_gather(layer, x, top, left, r0, count, column);
                for (c = 0; c < channels; c++)
                    sums[c] += rn__qdot(layer->weights + ((size_t)(c0 + c) * rows + r0) * k, column,
                                        count * k);
            }
            for (c = 0; c < channels; c++)
                y[(size_t)(c0 + c) * positions + p] =
                    rn__requantize(sums[c], layer->requant[c0 + c], layer->out.zero_point);
        }
    }
}

static void rn__qlinear_forward(const rn_qlayer *layer, const int8_t *x, int8_t *y)
{
    size_t in = rn__dims_product(layer->in_ndim, layer->in_shape), j;
    int32_t zero = layer->in.zero_point;
    int c;
    for (c = 0; c < layer->channels; c++) {
        const int8_t *w = layer->weights + (size_t)c * in;
        int32_t sum = layer->bias[c];
        for (j = 0; j < in; j++) sum += (int32_t)w[j] * ((int32_t)x[j] - zero);
        y[c] = rn__requantize(sum, layer->requant[c], layer->out.zero_point);
    }
}

/* TFLite's int8 pools: the maximum, or the sum divided with rounding half
   away from zero; the output has the input's scale and zero point. */
static void rn__qpool_forward(const rn_qlayer *layer, const int8_t *x, int8_t *y)
{
    int height = layer->in_shape[1], width = layer->in_shape[2], k = layer->kernel;
    int out_height = layer->out_shape[1], out_width = layer->out_shape[2], area = k * k;
    int is_max = layer->type == RN_LAYER_MAXPOOL2D, p, oh, ow, i, j;
    for (p = 0; p < layer->in_shape[0]; p++)
        for (oh = 0; oh < out_height; oh++)
            for (ow = 0; ow < out_width; ow++) {
                const int8_t *corner = x + ((size_t)p * height + (size_t)oh * layer->stride) * width +
                                       (size_t)ow * layer->stride;
                int32_t best = -128, sum = 0;
                for (i = 0; i < k; i++)
                    for (j = 0; j < k; j++) {
                        int32_t value = corner[(size_t)i * width + j];
                        best = value > best ? value : best;
                        sum += value;
                    }
                sum = sum >= 0 ? (sum + area / 2) / area : (sum - area / 2) / area;
                y[((size_t)p * out_height + oh) * out_width + ow] = (int8_t)(is_max ? best : sum);
            }
}

/* Two requantisation paths: x >= zero point scales by in / out, x below it
   by in x slope / out, the slope of the value's channel. A channel of more
   than 256 values is mapped through a table of all 256 inputs' results,
   made on the stack: fewer requantisations, the same values. */
static int8_t rn__qact_value(const rn_qlayer *layer, rn_qmultiplier negative, int8_t x)
{
    int32_t value = (int32_t)x - layer->in.zero_point;
    return rn__requantize(value, value >= 0 ? layer->requant[0] : negative, layer->out.zero_point);
}

static void rn__qact_forward(const rn_qlayer *layer, const int8_t *x, int8_t *y)
{
    size_t size = rn__dims_product(layer->in_ndim, layer->in_shape), j;
    size_t per_slope = size / (size_t)layer->channels; /* all values, or a channel's */
    int8_t table[256];
    int c, q;
    for (c = 0; c < layer->channels; c++) {
        rn_qmultiplier negative = layer->slope_requant[c];
        size_t first = (size_t)c * per_slope;
        if (per_slope <= 256) {
            for (j = first; j < first + per_slope; j++) y[j] = rn__qact_value(layer, negative, x[j]);
            continue;
        }
        for (q = -128; q <= 127; q++) table[q + 128] = rn__qact_value(layer, negative, (int8_t)q);
        for (j = first; j < first + per_slope; j++) y[j] = table[x[j] + 128];
    }
}

static void rn__qlayer_run(const rn_qlayer *layer, const int8_t *x, int8_t *y)
{
    switch (layer->type) {
    case RN_LAYER_CONV2D: rn__qconv_forward(layer, x, y); break;
    case RN_LAYER_LINEAR: rn__qlinear_forward(layer, x, y); break;
    case RN_LAYER_MAXPOOL2D:
    case RN_LAYER_AVGPOOL2D: rn__qpool_forward(layer, x, y); break;
    case RN_LAYER_ACTIVATION: rn__qact_forward(layer, x, y); break;
    default: /* flatten and dropout: the same values (distinct memory never overlaps) */
        if (x != y) memcpy(y, x, rn__dims_product(layer->in_ndim, layer->in_shape));
        break;
    }
}

RN_API int rn_qlayer_forward(const rn_qlayer *layer, const int8_t *input, int8_t *output)
{
    if (layer == NULL || input == NULL || output == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_qlayer_forward: NULL layer, input or output");
    rn__qlayer_run(layer, input, output);
    return RN_OK;
}

/* One sample, already in the second buffer; returns where its output is. */
static const int8_t *rn__qnet_run(rn_qnet *qnet)
{
    int i, source = 1;
    for (i = 0; i < qnet->n_layers; i++) {
        rn__qlayer_run(&qnet->layers[i], qnet->buffers[source],
                       qnet->buffers[qnet->layers[i].output_buffer]);
        source = qnet->layers[i].output_buffer;
    }
    return qnet->buffers[source];
}

RN_API int rn_qnet_forward(rn_qnet *qnet, const int8_t *input, int batch, int8_t *output)
{
    int n;
    if (qnet == NULL || input == NULL || output == NULL || batch < 1)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_qnet_forward: NULL network, input or output, or "
                            "a batch of %d", batch);
    for (n = 0; n < batch; n++) {
        const int8_t *sample = input + (size_t)n * qnet->in_size;
        if (sample != qnet->buffers[1]) memcpy(qnet->buffers[1], sample, qnet->in_size);
        memcpy(output + (size_t)n * qnet->out_size, rn__qnet_run(qnet), qnet->out_size);
    }
    return RN_OK;
}

RN_API int rn_qnet_forward_float(rn_qnet *qnet, const rn_tensor *input, rn_tensor *output)
{
    const rn_qlayer *last;
    int status, n;
    size_t j;
    if (qnet == NULL || output == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_qnet_forward_float: NULL network or output");
    status = rn__check_batch_shape(input, qnet->in_ndim, qnet->in_shape, "rn_qnet_forward_float",
                                   "input");
    last = &qnet->layers[qnet->n_layers - 1];
    if (status == RN_OK) status = rn__resize_batch(output, input->shape[0], last->out_ndim,
                                                   last->out_shape);
    for (n = 0; status == RN_OK && n < input->shape[0]; n++) {
        const float *x = input->data + (size_t)n * qnet->in_size;
        const int8_t *y;
        for (j = 0; j < qnet->in_size; j++)
            qnet->buffers[1][j] = rn_quantize_value(x[j], qnet->layers[0].in);
        y = rn__qnet_run(qnet);
        for (j = 0; j < qnet->out_size; j++)
            output->data[(size_t)n * qnet->out_size + j] = rn_dequantize_value(y[j], last->out);
    }
    return status;
}

RN_API void rn_qnet_free(rn_qnet *qnet)
{
    int i;
    if (qnet == NULL) return;
    for (i = 0; qnet->layers != NULL && i < qnet->n_layers; i++) RN_FREE(qnet->layers[i].storage);
    RN_FREE((void *)qnet->layers); /* const for exported networks, whose table is in flash */
    RN_FREE(qnet->buffers[0]);
    RN_FREE(qnet->buffers[1]);
    RN_FREE(qnet);
}

/* --- quantising a network --- */

/* The activation kinds with an int8 form: a slope for x < 0, or NULL. */
static int rn__qact_slope(const rn_layer *layer, int channel, double *slope)
{
    switch (layer->act.kind) {
    case RN_ACT_IDENTITY: *slope = 1.0; return 1;
    case RN_ACT_RELU: *slope = 0.0; return 1;
    case RN_ACT_LRELU: *slope = layer->act.slope; return 1;
    case RN_ACT_PRELU: *slope = layer->params[0].value.data[channel]; return 1;
    case RN_ACT_RELU_ALPHA: *slope = 1.0 - (double)layer->params[0].value.data[channel]; return 1;
    default: return 0;
    }
}

static int rn__check_quantizable(const rn_net *folded)
{
    int i;
    double slope;
    for (i = 0; i < folded->n_layers; i++) {
        const rn_layer *layer = folded->layers[i];
        if (layer->type == RN_LAYER_BATCHNORM)
            return rn_set_error(RN_ERR_UNSUPPORTED, "rn_net_quantize: %s follows no conv2d or "
                                "linear layer to fold into, and batch norm has no int8 form",
                                layer->name);
        if (layer->type == RN_LAYER_CONV2D && layer->kernel > RN__QCONV_TAPS)
            return rn_set_error(RN_ERR_UNSUPPORTED, "rn_net_quantize: %s's kernel is %d wide; the "
                                "int8 convolution takes at most %d", layer->name, layer->kernel,
                                RN__QCONV_TAPS);
        if (layer->type == RN_LAYER_ACTIVATION && !rn__qact_slope(layer, 0, &slope))
            return rn_set_error(RN_ERR_UNSUPPORTED, "rn_net_quantize: %s is %s, which has no int8 "
                                "form (identity, relu, lrelu, prelu and relu_alpha have)",
                                layer->name, rn_act_kind_name(layer->act.kind));
    }
    return RN_OK;
}

/* ranges[0] is the input's [min, max], ranges[i + 1] layer i's output's,
   over every calibration input, in batches of at most 256. */
static int rn__calibrate(rn_net *folded, const rn_tensor *inputs, float (*ranges)[2])
{
    int first, i, status = RN_OK;
    size_t j;
    for (i = 0; i <= folded->n_layers; i++) {
        ranges[i][0] = FLT_MAX;
        ranges[i][1] = -FLT_MAX;
    }
    for (first = 0; status == RN_OK && first < inputs->shape[0]; first += 256) {
        int count = inputs->shape[0] - first < 256 ? inputs->shape[0] - first : 256;
        rn_tensor batch = rn_tensor_slice(inputs, first, count);
        status = rn_net_forward(folded, &batch, RN_EVAL);
        for (i = 0; status == RN_OK && i <= folded->n_layers; i++) {
            const rn_tensor *values = i == 0 ? &batch : &folded->outputs[i - 1];
            for (j = 0; j < values->size; j++) {
                float value = values->data[j];
                if (!isfinite(value))
                    return rn_set_error(RN_ERR_NUMERIC, "rn_net_quantize: %s value %lu of "
                                        "calibration batch %d is not finite", i == 0 ? "input" :
                                        folded->layers[i - 1]->name, (unsigned long)j, first / 256);
                ranges[i][0] = value < ranges[i][0] ? value : ranges[i][0];
                ranges[i][1] = value > ranges[i][1] ? value : ranges[i][1];
            }
        }
    }
    return status;
}

/* The arrays of layer, in one block: multipliers and scales first (4-byte
   alignment), the int8 weights last. */
static int rn__qlayer_storage(rn_qlayer *qlayer, size_t n_weights, int n_requant, int n_slopes)
{
    size_t channels = qlayer->type == RN_LAYER_ACTIVATION ? 0 : (size_t)qlayer->channels;
    size_t bytes = (size_t)(n_requant + n_slopes) * sizeof(rn_qmultiplier) +
                   channels * (sizeof(float) + sizeof(int32_t)) + n_weights;
    unsigned char *block = (unsigned char *)RN_MALLOC(bytes > 0 ? bytes : 1);
    if (block == NULL)
        return rn_set_error(RN_ERR_MEMORY, "rn_net_quantize: %lu bytes for %s", (unsigned long)bytes,
                            qlayer->name);
    qlayer->storage = block;
    qlayer->requant = (const rn_qmultiplier *)(void *)block;
    if (n_slopes > 0) qlayer->slope_requant = qlayer->requant + n_requant;
    if (channels == 0) return RN_OK;
    qlayer->weight_scales = (const float *)(void *)(qlayer->requant + n_requant);
    qlayer->bias = (const int32_t *)(void *)(qlayer->weight_scales + channels);
    qlayer->weights = (const int8_t *)(void *)(qlayer->bias + channels);
    return RN_OK;
}

/* Per output channel: symmetric int8 weights, an int32 bias and the
   requantisation of the sum. The sum must fit an int32 whatever the input. */
static int rn__quantize_weighted(rn_qlayer *qlayer, const rn_layer *layer)
{
    size_t fan = layer->params[0].value.size / (size_t)layer->units, j;
    int c, status;
    if ((double)fan * 127.0 * 255.0 > 1073741824.0)
        return rn_set_error(RN_ERR_UNSUPPORTED, "rn_net_quantize: %s sums %lu products, more "
                            "than an int32 holds", layer->name, (unsigned long)fan);
    status = rn__qlayer_storage(qlayer, layer->params[0].value.size, layer->units, 0);
    for (c = 0; status == RN_OK && c < layer->units; c++) {
        const float *w = layer->params[0].value.data + (size_t)c * fan;
        float *scale = (float *)qlayer->weight_scales + c, largest = 0.0f;
        int8_t *q = (int8_t *)qlayer->weights + (size_t)c * fan;
        double bias_scale, bias;
        for (j = 0; j < fan; j++) largest = fabsf(w[j]) > largest ? fabsf(w[j]) : largest;
        if (!isfinite(largest))
            return rn_set_error(RN_ERR_NUMERIC, "rn_net_quantize: %s has a weight that is not "
                                "finite in channel %d", layer->name, c);
        *scale = largest / 127.0f;
        if (!(*scale >= FLT_EPSILON)) *scale = FLT_EPSILON;
        for (j = 0; j < fan; j++) {
            float steps = rintf(w[j] / *scale);
            q[j] = (int8_t)(steps > 127.0f ? 127 : steps < -127.0f ? -127 : (int)steps);
        }
        bias_scale = (double)qlayer->in.scale * (double)*scale;
        bias = layer->has_bias ? round(layer->params[1].value.data[c] / bias_scale) : 0.0;
        if (!(fabs(bias) < 2147483647.0))
            return rn_set_error(RN_ERR_NUMERIC, "rn_net_quantize: %s's bias %g in channel %d "
                                "does not fit an int32 at scale %g", layer->name,
                                layer->has_bias ? (double)layer->params[1].value.data[c] : 0.0, c,
                                bias_scale);
        ((int32_t *)qlayer->bias)[c] = (int32_t)bias;
        status = rn_quantize_multiplier(bias_scale / qlayer->out.scale,
                                        (rn_qmultiplier *)qlayer->requant + c);
    }
    return status;
}

static int rn__quantize_activation(rn_qlayer *qlayer, const rn_layer *layer)
{
    double slope, ratio = (double)qlayer->in.scale / qlayer->out.scale;
    int c, status;
    qlayer->act_kind = layer->act.kind;
    qlayer->channels = layer->n_params > 0 ? (int)layer->params[0].value.size : 1;
    status = rn__qlayer_storage(qlayer, 0, 1, qlayer->channels);
    if (status == RN_OK) status = rn_quantize_multiplier(ratio, (rn_qmultiplier *)qlayer->requant);
    for (c = 0; status == RN_OK && c < qlayer->channels; c++) {
        rn__qact_slope(layer, c, &slope);
        status = rn_quantize_multiplier(ratio * slope, (rn_qmultiplier *)qlayer->slope_requant + c);
    }
    return status;
}

/* qlayer for folded layer i, whose input and output ranges are given. */
static int rn__quantize_layer(rn_qlayer *qlayer, const rn_net *folded, int i, rn_qparams in,
                              const float *out_range)
{
    const rn_layer *layer = folded->layers[i];
    qlayer->type = layer->type;
    memcpy(qlayer->name, layer->name, sizeof qlayer->name);
    qlayer->in_ndim = layer->in_ndim;
    qlayer->out_ndim = layer->out_ndim;
    memcpy(qlayer->in_shape, layer->in_shape, sizeof qlayer->in_shape);
    memcpy(qlayer->out_shape, layer->out_shape, sizeof qlayer->out_shape);
    qlayer->kernel = layer->kernel;
    qlayer->stride = layer->stride;
    qlayer->padding = layer->padding;
    qlayer->channels = layer->units;
    qlayer->in = in;
    qlayer->output_buffer = rn__arena_buffer(folded, i);
    /* Pools, flatten and dropout keep their input's scale, as TFLite's do. */
    qlayer->out = layer->type == RN_LAYER_CONV2D || layer->type == RN_LAYER_LINEAR ||
                          layer->type == RN_LAYER_ACTIVATION
                      ? rn_qparams_from_range(out_range[0], out_range[1])
                      : in;
    if (layer->type == RN_LAYER_CONV2D || layer->type == RN_LAYER_LINEAR)
        return rn__quantize_weighted(qlayer, layer);
    if (layer->type == RN_LAYER_ACTIVATION) return rn__quantize_activation(qlayer, layer);
    return RN_OK;
}

static int rn__qnet_build(rn_qnet *qnet, const rn_net *folded, const float (*ranges)[2])
{
    rn_qlayer *layers;
    size_t sizes[2];
    int i, k, status = RN_OK;
    qnet->in_ndim = folded->in_ndim;
    memcpy(qnet->in_shape, folded->in_shape, sizeof qnet->in_shape);
    qnet->in_size = rn__dims_product(folded->in_ndim, folded->in_shape);
    qnet->out_size = rn__dims_product(folded->layers[folded->n_layers - 1]->out_ndim,
                                      folded->layers[folded->n_layers - 1]->out_shape);
    rn__arena_plan(folded, sizes);
    for (k = 0; k < 2; k++) {
        qnet->buffer_bytes[k] = sizes[k];
        qnet->buffers[k] = (int8_t *)RN_MALLOC(sizes[k] > 0 ? sizes[k] : 1);
        if (qnet->buffers[k] == NULL) return rn_set_error(RN_ERR_MEMORY, "rn_net_quantize: buffers");
    }
    layers = (rn_qlayer *)RN_MALLOC((size_t)folded->n_layers * sizeof *layers);
    if (layers == NULL) return rn_set_error(RN_ERR_MEMORY, "rn_net_quantize: layers");
    memset(layers, 0, (size_t)folded->n_layers * sizeof *layers);
    qnet->layers = layers;
    qnet->n_layers = folded->n_layers;
    for (i = 0; i < folded->n_layers && status == RN_OK; i++)
        status = rn__quantize_layer(&layers[i], folded, i,
                                    i == 0 ? rn_qparams_from_range(ranges[0][0], ranges[0][1])
                                           : layers[i - 1].out,
                                    ranges[i + 1]);
    return status;
}

RN_API int rn_net_quantize(const rn_net *net, const rn_tensor *calibration_inputs, rn_qnet **qnet)
{
    rn_net *folded = NULL;
    float (*ranges)[2] = NULL;
    rn_qnet *built = NULL;
    int status;
    if (qnet != NULL) *qnet = NULL;
    if (net == NULL || calibration_inputs == NULL || qnet == NULL || net->n_layers == 0)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_net_quantize: NULL or empty network, NULL "
                            "calibration inputs or result");
    status = rn__check_savable(net, "rn_net_quantize");
    if (status == RN_OK) status = rn_net_fold_batchnorm(net, &folded);
    if (status == RN_OK) status = rn__check_quantizable(folded);
    if (status == RN_OK) {
        ranges = (float (*)[2])RN_MALLOC((size_t)(folded->n_layers + 1) * sizeof *ranges);
        built = (rn_qnet *)RN_MALLOC(sizeof *built);
        /* status set here, not from rn_set_error's result, so that gcc's
           flow analysis sees that built is not NULL further down */
        status = ranges != NULL && built != NULL ? RN_OK : RN_ERR_MEMORY;
        if (status != RN_OK) rn_set_error(status, "rn_net_quantize: out of memory");
        else memset(built, 0, sizeof *built);
    }
    if (status == RN_OK) status = rn__calibrate(folded, calibration_inputs, ranges);
    if (status == RN_OK) status = rn__qnet_build(built, folded, (const float (*)[2])ranges);
    rn_net_free(folded);
    RN_FREE(ranges);
    if (status != RN_OK) {
        rn_qnet_free(built);
        return status;
    }
    *qnet = built;
    return RN_OK;
}

/* --- checking and exporting an int8 network --- */

static int rn__qlayer_is_weighted(const rn_qlayer *layer)
{
    return layer->type == RN_LAYER_CONV2D || layer->type == RN_LAYER_LINEAR;
}

static size_t rn__qlayer_weight_count(const rn_qlayer *layer)
{
    size_t fan = layer->type == RN_LAYER_CONV2D
                     ? (size_t)layer->in_shape[0] * (size_t)layer->kernel * (size_t)layer->kernel
                     : rn__dims_product(layer->in_ndim, layer->in_shape);
    return (size_t)layer->channels * fan;
}

/* Multipliers per output channel (conv2d, linear), or the one for x >= the
   zero point (activations); slopes: the activations' ones for x below it. */
static int rn__qlayer_requant_count(const rn_qlayer *layer)
{
    return rn__qlayer_is_weighted(layer) ? layer->channels
           : layer->type == RN_LAYER_ACTIVATION ? 1 : 0;
}

static int rn__qlayer_slope_count(const rn_qlayer *layer)
{
    return layer->type == RN_LAYER_ACTIVATION ? layer->channels : 0;
}

static uint32_t rn__crc32_multipliers(uint32_t crc, const rn_qmultiplier *values, int count)
{
    int j;
    for (j = 0; j < count; j++) {
        crc = rn__crc32_word(crc, (uint32_t)values[j].multiplier);
        crc = rn__crc32_word(crc, (uint32_t)values[j].shift);
    }
    return crc;
}

RN_API uint32_t rn_qnet_crc32(const rn_qnet *qnet)
{
    uint32_t crc = 0;
    int i, c;
    for (i = 0; qnet != NULL && i < qnet->n_layers; i++) {
        const rn_qlayer *layer = &qnet->layers[i];
        crc = rn__crc32_floats(crc, &layer->in.scale, 1);
        crc = rn__crc32_word(crc, (uint32_t)layer->in.zero_point);
        crc = rn__crc32_floats(crc, &layer->out.scale, 1);
        crc = rn__crc32_word(crc, (uint32_t)layer->out.zero_point);
        if (rn__qlayer_is_weighted(layer)) {
            crc = rn_crc32(crc, layer->weights, rn__qlayer_weight_count(layer));
            for (c = 0; c < layer->channels; c++) crc = rn__crc32_word(crc, (uint32_t)layer->bias[c]);
        }
        crc = rn__crc32_multipliers(crc, layer->requant, rn__qlayer_requant_count(layer));
        crc = rn__crc32_multipliers(crc, layer->slope_requant, rn__qlayer_slope_count(layer));
    }
    return crc;
}

static const char *rn__qshape_fault(const rn_qlayer *layer)
{
    const int *in = layer->in_shape, *out = layer->out_shape;
    int d;
    if (layer->in_ndim < 1 || layer->in_ndim > 3 || layer->out_ndim < 1 || layer->out_ndim > 3)
        return "a shape that has not 1 to 3 dimensions";
    for (d = 0; d < layer->in_ndim; d++)
        if (in[d] < 1) return "an input dimension below 1";
    for (d = 0; d < layer->out_ndim; d++)
        if (out[d] < 1) return "an output dimension below 1";
    switch (layer->type) {
    case RN_LAYER_CONV2D:
    case RN_LAYER_MAXPOOL2D:
    case RN_LAYER_AVGPOOL2D:
        if (layer->in_ndim != 3 || layer->out_ndim != 3 || layer->kernel < 1 || layer->stride < 1 ||
            layer->padding < 0 || (layer->type != RN_LAYER_CONV2D && layer->padding != 0))
            return "a window over no 3-dimensional sample, or a kernel, stride or padding out of range";
        if (out[1] != rn__window_output(in[1], layer->kernel, layer->stride, layer->padding) ||
            out[2] != rn__window_output(in[2], layer->kernel, layer->stride, layer->padding))
            return "an output height or width that its kernel, stride and padding do not give";
        if (layer->type == RN_LAYER_CONV2D ? out[0] != layer->channels : out[0] != in[0])
            return "an output whose channels differ from those the layer makes";
        if (layer->type == RN_LAYER_CONV2D && layer->kernel > RN__QCONV_TAPS)
            return "a kernel wider than the int8 convolution's 256 taps a row";
        return NULL;
    case RN_LAYER_LINEAR:
        return layer->out_ndim != 1 || out[0] != layer->channels
                   ? "an output whose size differs from the layer's units" : NULL;
    case RN_LAYER_ACTIVATION:
    case RN_LAYER_DROPOUT:
        if (layer->in_ndim != layer->out_ndim || memcmp(in, out, (size_t)layer->in_ndim * sizeof *in))
            return "an output shape that differs from its input's";
        if (layer->type == RN_LAYER_ACTIVATION && layer->channels != 1 && layer->channels != in[0])
            return "slopes neither shared nor one per channel";
        return NULL;
    case RN_LAYER_FLATTEN:
        return layer->out_ndim != 1 ||
                       (size_t)out[0] != rn__dims_product(layer->in_ndim, layer->in_shape)
                   ? "an output that does not hold the input's values in one dimension" : NULL;
    default: return "a kind of layer with no int8 form";
    }
}

static int rn__qmultiplier_is_sound(rn_qmultiplier m)
{
    if (m.multiplier == 0) return m.shift == 0;
    return m.shift >= -31 && m.shift <= 30 && m.multiplier != INT32_MIN &&
           (m.multiplier >= 1073741824 || m.multiplier <= -1073741824);
}

static const char *rn__qvalues_fault(const rn_qlayer *layer)
{
    int j;
    if (layer->in.zero_point < -128 || layer->in.zero_point > 127 || layer->out.zero_point < -128 ||
        layer->out.zero_point > 127 || !(layer->in.scale > 0.0f) || !(layer->out.scale > 0.0f))
        return "a zero point outside [-128, 127] or a scale that is not positive";
    if (rn__qlayer_is_weighted(layer) && (layer->weights == NULL || layer->bias == NULL))
        return "no weights or biases";
    if ((rn__qlayer_requant_count(layer) > 0 && layer->requant == NULL) ||
        (rn__qlayer_slope_count(layer) > 0 && layer->slope_requant == NULL))
        return "no multipliers";
    for (j = 0; j < rn__qlayer_requant_count(layer); j++)
        if (!rn__qmultiplier_is_sound(layer->requant[j])) return "a multiplier out of range";
    for (j = 0; j < rn__qlayer_slope_count(layer); j++)
        if (!rn__qmultiplier_is_sound(layer->slope_requant[j])) return "a slope multiplier out of range";
    return NULL;
}

/* Layer i must take what the one before it gives (the network's input for
   layer 0), in its quantisation, and fit its output in its buffer; only
   the layers that work value by value may write the buffer they read. */
static const char *rn__qchain_fault(const rn_qnet *qnet, int i, int source)
{
    const rn_qlayer *layer = &qnet->layers[i], *previous = i > 0 ? &qnet->layers[i - 1] : NULL;
    int in_ndim = previous != NULL ? previous->out_ndim : qnet->in_ndim;
    const int *in_shape = previous != NULL ? previous->out_shape : qnet->in_shape;
    int in_place = layer->type == RN_LAYER_ACTIVATION || layer->type == RN_LAYER_FLATTEN ||
                   layer->type == RN_LAYER_DROPOUT;
    if (layer->in_ndim != in_ndim || memcmp(layer->in_shape, in_shape, (size_t)in_ndim * sizeof(int)))
        return "an input shape that is not what the layer before it gives";
    if (previous != NULL && (layer->in.scale != previous->out.scale ||
                             layer->in.zero_point != previous->out.zero_point))
        return "an input quantisation that is not the one the layer before it gives";
    if (layer->output_buffer != 0 && layer->output_buffer != 1) return "no buffer 0 or 1 to write";
    if (rn__dims_product(layer->out_ndim, layer->out_shape) > qnet->buffer_bytes[layer->output_buffer])
        return "an output larger than its buffer";
    if (layer->output_buffer == source && !in_place) return "an output in the buffer it reads";
    return NULL;
}

static int rn__qnet_fault(const char *what, int i, const char *fault)
{
    return rn_set_error(RN_ERR_FORMAT, "rn_qnet_check: %s %d has %s", what, i, fault);
}

RN_API int rn_qnet_check(const rn_qnet *qnet, uint32_t crc32)
{
    const rn_qlayer *last;
    const char *fault;
    uint32_t values_crc;
    int i, d, source = 1;
    if (qnet == NULL || qnet->layers == NULL || qnet->n_layers < 1 || qnet->buffers[0] == NULL ||
        qnet->buffers[1] == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_qnet_check: NULL network, layers or buffers");
    if (qnet->in_ndim < 1 || qnet->in_ndim > 3) return rn__qnet_fault("the input of layer", 0,
                                                                     "not 1 to 3 dimensions");
    for (d = 0; d < qnet->in_ndim; d++)
        if (qnet->in_shape[d] < 1) return rn__qnet_fault("the input of layer", 0, "a dimension below 1");
    if (qnet->in_size != rn__dims_product(qnet->in_ndim, qnet->in_shape) ||
        qnet->in_size > qnet->buffer_bytes[1])
        return rn__qnet_fault("the input of layer", 0, "a size that is not its shape's or does not "
                              "fit buffer 1");
    for (i = 0; i < qnet->n_layers; i++) {
        fault = rn__qshape_fault(&qnet->layers[i]);
        if (fault == NULL) fault = rn__qvalues_fault(&qnet->layers[i]);
        if (fault == NULL) fault = rn__qchain_fault(qnet, i, source);
        if (fault != NULL) return rn__qnet_fault("layer", i, fault);
        source = qnet->layers[i].output_buffer;
    }
    last = &qnet->layers[qnet->n_layers - 1];
    if (qnet->out_size != rn__dims_product(last->out_ndim, last->out_shape))
        return rn__qnet_fault("the output of layer", qnet->n_layers - 1, "a size that is not its "
                              "shape's");
    values_crc = rn_qnet_crc32(qnet);
    if (values_crc != crc32)
        return rn_set_error(RN_ERR_FORMAT, "rn_qnet_check: the values' CRC-32 is 0x%08lX, not "
                            "0x%08lX: the network was changed after it was exported",
                            (unsigned long)values_crc, (unsigned long)crc32);
    return RN_OK;
}

/* One constant array of the header: name_qlayer_what[count] (q: a float
   export of the same name has name_layer_what arrays). */
typedef enum rn__qarray_type { RN__QARRAY_INT8, RN__QARRAY_INT32, RN__QARRAY_MULTIPLIER } rn__qarray_type;

static void rn__export_qarray(FILE *file, const char *name, const rn_qlayer *layer, const char *what,
                              rn__qarray_type type, const void *values, size_t count)
{
    static const char *const c_types[] = {"int8_t", "int32_t", "rn_qmultiplier"};
    static const size_t per_line[] = {16, 8, 4};
    size_t j;
    fprintf(file, "static const %s %s_q%s_%s[%lu] = {", c_types[type], name, layer->name, what,
            (unsigned long)count);
    for (j = 0; j < count; j++) {
        fprintf(file, "%s", j % per_line[type] == 0 ? "\n    " : " ");
        if (type == RN__QARRAY_INT8) fprintf(file, "%d", ((const int8_t *)values)[j]);
        if (type == RN__QARRAY_INT32) fprintf(file, "%ld", (long)((const int32_t *)values)[j]);
        if (type == RN__QARRAY_MULTIPLIER)
            fprintf(file, "{%ld, %ld}", (long)((const rn_qmultiplier *)values)[j].multiplier,
                    (long)((const rn_qmultiplier *)values)[j].shift);
        fprintf(file, "%s", j + 1 < count ? "," : "");
    }
    fprintf(file, "\n};\n");
}

static void rn__export_qlayer_arrays(FILE *file, const char *name, const rn_qlayer *layer)
{
    if (rn__qlayer_is_weighted(layer)) {
        rn__export_qarray(file, name, layer, "weights", RN__QARRAY_INT8, layer->weights,
                          rn__qlayer_weight_count(layer));
        rn__export_qarray(file, name, layer, "bias", RN__QARRAY_INT32, layer->bias,
                          (size_t)layer->channels);
    }
    if (rn__qlayer_requant_count(layer) > 0)
        rn__export_qarray(file, name, layer, "requant", RN__QARRAY_MULTIPLIER, layer->requant,
                          (size_t)rn__qlayer_requant_count(layer));
    if (rn__qlayer_slope_count(layer) > 0)
        rn__export_qarray(file, name, layer, "slope_requant", RN__QARRAY_MULTIPLIER,
                          layer->slope_requant, (size_t)rn__qlayer_slope_count(layer));
}

/* name_qlayer_what, or NULL when the layer has no such array. */
static void rn__export_qarray_name(FILE *file, const char *name, const rn_qlayer *layer,
                                   const char *what, int present)
{
    if (present) fprintf(file, "%s_q%s_%s", name, layer->name, what);
    else fprintf(file, "NULL");
}

static void rn__export_qshape(FILE *file, int ndim, const int *shape)
{
    fprintf(file, "%d, {%d, %d, %d}", ndim, shape[0], ndim > 1 ? shape[1] : 0,
            ndim > 2 ? shape[2] : 0);
}

/* One rn_qlayer initialiser, its fields in the struct's order (C++ has no
   designated initialisers before C++20): the first line names the layer
   and its shapes, the second its settings and quantisation, the third its
   arrays (weight_scales are only needed to quantise, and storage is for
   owned arrays: both NULL). */
static void rn__export_qlayer(FILE *file, const char *name, const rn_qlayer *layer)
{
    static const char *const type_names[] = {"RN_LAYER_CONV2D", "RN_LAYER_LINEAR",
                                             "RN_LAYER_MAXPOOL2D", "RN_LAYER_AVGPOOL2D",
                                             "RN_LAYER_FLATTEN", "RN_LAYER_ACTIVATION",
                                             "RN_LAYER_BATCHNORM", "RN_LAYER_DROPOUT"};
    const char *kind = rn_act_kind_name(layer->act_kind);
    fprintf(file, "    {%s, RN_ACT_", type_names[layer->type]);
    for (; *kind != '\0'; kind++) fputc(*kind >= 'a' && *kind <= 'z' ? *kind - 'a' + 'A' : *kind, file);
    fprintf(file, ", \"%s\", ", layer->name);
    rn__export_qshape(file, layer->in_ndim, layer->in_shape);
    fprintf(file, ", ");
    rn__export_qshape(file, layer->out_ndim, layer->out_shape);
    fprintf(file, ",\n     %d, %d, %d, %d, {%.9ef, %ld}, {%.9ef, %ld}, %d,\n     ", layer->kernel,
            layer->stride, layer->padding, layer->channels, (double)layer->in.scale,
            (long)layer->in.zero_point, (double)layer->out.scale, (long)layer->out.zero_point,
            layer->output_buffer);
    rn__export_qarray_name(file, name, layer, "weights", rn__qlayer_is_weighted(layer));
    fprintf(file, ", NULL, ");
    rn__export_qarray_name(file, name, layer, "bias", rn__qlayer_is_weighted(layer));
    fprintf(file, ", ");
    rn__export_qarray_name(file, name, layer, "requant", rn__qlayer_requant_count(layer) > 0);
    fprintf(file, ", ");
    rn__export_qarray_name(file, name, layer, "slope_requant", rn__qlayer_slope_count(layer) > 0);
    fprintf(file, ", NULL},\n");
}

static void rn__export_qnet_comment(FILE *file, const rn_qnet *qnet, const char *name,
                                    const char *upper)
{
    const rn_qlayer *first = &qnet->layers[0], *last = &qnet->layers[qnet->n_layers - 1];
    char shape[64];
    int i;
    fprintf(file,
            "/* %s: an int8 relunet network exported by rn_qnet_export_c, its values\n"
            "   as constant arrays that stay in flash, its two buffers static. Include\n"
            "   relunet.h first (with RELUNET_IMPLEMENTATION in one file of the\n"
            "   program), then:\n\n"
            "       if (rn_qnet_check(&%s_qnet, %s_QNET_CRC32) != RN_OK) refuse it;\n"
            "       rn_qnet_forward(&%s_qnet, input, 1, output);\n\n"
            "   input: %lu int8 values q standing for %.9g (q - zero point %ld);\n"
            "   output: %lu int8 values q standing for %.9g (q - zero point %ld).\n\n"
            "   Layers:", name, name, upper, name, (unsigned long)qnet->in_size,
            (double)first->in.scale, (long)first->in.zero_point, (unsigned long)qnet->out_size,
            (double)last->out.scale, (long)last->out.zero_point);
    for (i = 0; i < qnet->n_layers; i++) {
        rn__dims_string(qnet->layers[i].out_ndim, qnet->layers[i].out_shape, shape, sizeof shape);
        fprintf(file, "%s %s %s", i % 4 == 0 ? "\n  " : ",", qnet->layers[i].name, shape);
    }
    fprintf(file, "\n*/\n");
}

static void rn__export_qnet(FILE *file, const rn_qnet *qnet, const char *name, const char *upper)
{
    int i;
    rn__export_qnet_comment(file, qnet, name, upper);
    fprintf(file, "#ifndef %s_QNET_H\n#define %s_QNET_H\n\n", upper, upper);
    fprintf(file, "#define %s_QNET_CRC32 0x%08lXu\n#define %s_QNET_IN_SIZE %lu\n"
                  "#define %s_QNET_OUT_SIZE %lu\n\n", upper, (unsigned long)rn_qnet_crc32(qnet),
            upper, (unsigned long)qnet->in_size, upper, (unsigned long)qnet->out_size);
    for (i = 0; i < qnet->n_layers; i++) rn__export_qlayer_arrays(file, name, &qnet->layers[i]);
    fprintf(file, "\nstatic const rn_qlayer %s_qlayers[%d] = {\n", name, qnet->n_layers);
    for (i = 0; i < qnet->n_layers; i++) rn__export_qlayer(file, name, &qnet->layers[i]);
    fprintf(file, "};\n\nstatic int8_t %s_buffer0[%lu], %s_buffer1[%lu];\n\n", name,
            (unsigned long)qnet->buffer_bytes[0], name, (unsigned long)qnet->buffer_bytes[1]);
    fprintf(file, "static rn_qnet %s_qnet = {%d, %s_qlayers, ", name, qnet->n_layers, name);
    rn__export_qshape(file, qnet->in_ndim, qnet->in_shape);
    fprintf(file, ", %lu, %lu,\n    {%s_buffer0, %s_buffer1}, {%lu, %lu}};\n\n#endif\n",
            (unsigned long)qnet->in_size, (unsigned long)qnet->out_size, name, name,
            (unsigned long)qnet->buffer_bytes[0], (unsigned long)qnet->buffer_bytes[1]);
}

RN_API int rn_qnet_export_c(const rn_qnet *qnet, const char *path, const char *name)
{
    char upper[72];
    rn__output out;
    int status, i;
    size_t j;
    if (path == NULL || !rn__is_identifier(name))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_qnet_export_c: NULL path, or the name is not a C "
                            "identifier of at most 64 characters");
    status = rn_qnet_check(qnet, rn_qnet_crc32(qnet));
    for (i = 0; status == RN_OK && i < qnet->n_layers; i++)
        if (!rn__is_identifier(qnet->layers[i].name))
            status = rn_set_error(RN_ERR_ARGUMENT, "rn_qnet_export_c: layer %d's name \"%.16s\" is "
                                  "not a C identifier", i, qnet->layers[i].name);
    if (status != RN_OK) return status;
    for (j = 0; j <= strlen(name); j++)
        upper[j] = name[j] >= 'a' && name[j] <= 'z' ? (char)(name[j] - 'a' + 'A') : name[j];
    if (rn__output_open(&out, path, "w", "rn_qnet_export_c") != RN_OK) return RN_ERR_IO;
    rn__export_qnet(out.file, qnet, name, upper);
    return rn__output_close(&out, RN_OK, path, "rn_qnet_export_c");
}

/* ===== 14. relaxed activation identity (RAI) training ===================== */

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
    int resync_every;      /* counted in the optimizer's steps, which its file keeps */
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
    if (net == NULL || net->n_layers == 0 || net->arena != NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_rai_new: no network, no layers, or an arena "
                            "network (those are for inference)");
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
        status = rn__param_describe(&rai->aux[t], layer->name, "z", RN_PARAM_AUXILIARY, i, 2, shape);
        if (status == RN_OK) status = rn__param_alloc(&rai->aux[t]);
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
        double hidden = 0.0;
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
    if (rai->resync_every > 0 && rai->optim->steps % rai->resync_every == 0)
        status = rn_rai_resync(rai);
    return status;
}

RN_API rn_param *rn_rai_aux(rn_rai *rai, int index)
{
    return rai != NULL && index >= 0 && index < rai->n_aux ? &rai->aux[index] : NULL;
}

RN_API rn_optim *rn_rai_optim(rn_rai *rai) { return rai != NULL ? rai->optim : NULL; }

/* ===== 15. internals: instruction sets, threads and kernels =============== */

/* ----- threads ----- */

/* Built with -fopenmp, threads are on: OpenMP gives their default count
   (OMP_NUM_THREADS) and tells whether the caller is in a parallel region
   of its own, but the work is shared out by a pool of relunet's own. An
   OpenMP team waits at the end of each parallel region until every one of
   its threads has arrived, and its threads spin while they wait: with
   another process on one core, a training step of many short regions
   waited out a time slice of the descheduled thread in each and ran 14 to
   24 times slower on 2 threads than on 1. The pool's threads sleep after a
   short spin and take a job's chunks one at a time, and the caller waits
   only for chunks already taken: a thread that wakes late finds the job
   done and sleeps again, and the caller does the rest itself. Which thread
   runs a chunk never changes what it computes. */
#ifdef _OPENMP
#include <omp.h>
#define RN__POOL 1
#endif

static int rn__thread_count; /* 0 until first asked */

RN_API int rn_set_threads(int count)
{
    if (count < 0) return rn_set_error(RN_ERR_ARGUMENT, "rn_set_threads: count %d < 0", count);
#ifdef RN__POOL
    rn__thread_count = count > 0 ? count : omp_get_max_threads();
#else
    rn__thread_count = 1;
#endif
    return RN_OK;
}

RN_API int rn_threads(void)
{
    if (rn__thread_count == 0) rn_set_threads(0);
    return rn__thread_count;
}

/* A job: run(context, chunk) for every chunk in [0, chunks), each on one
   thread, in any order. */
typedef void (*rn__chunk_fn)(void *context, int chunk);

#ifdef RN__POOL

/* A mutex and condition variables that need no initialising call: Win32's
   slim locks (Vista and later), else POSIX threads. */
#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#define RN__DEFINED_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#define RN__DEFINED_NOMINMAX
#endif
#include <windows.h>
#undef near /* 16-bit pointer words, which name variables here */
#undef far
#ifdef RN__DEFINED_LEAN_AND_MEAN
#undef WIN32_LEAN_AND_MEAN
#endif
#ifdef RN__DEFINED_NOMINMAX
#undef NOMINMAX
#endif
typedef SRWLOCK rn__mutex;
typedef CONDITION_VARIABLE rn__cond;
#define RN__MUTEX_INIT SRWLOCK_INIT
#define RN__COND_INIT CONDITION_VARIABLE_INIT
#define rn__lock(mutex) AcquireSRWLockExclusive(mutex)
#define rn__unlock(mutex) ReleaseSRWLockExclusive(mutex)
#define rn__cond_wait(cond, mutex) SleepConditionVariableSRW(cond, mutex, INFINITE, 0)
#define rn__cond_broadcast(cond) WakeAllConditionVariable(cond)
#else
#include <pthread.h>
typedef pthread_mutex_t rn__mutex;
typedef pthread_cond_t rn__cond;
#define RN__MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
#define RN__COND_INIT PTHREAD_COND_INITIALIZER
#define rn__lock(mutex) pthread_mutex_lock(mutex)
#define rn__unlock(mutex) pthread_mutex_unlock(mutex)
#define rn__cond_wait(cond, mutex) pthread_cond_wait(cond, mutex)
#define rn__cond_broadcast(cond) pthread_cond_broadcast(cond)
#endif

/* The pool and the one job it runs at a time; every field is read and
   written under lock. `posted` and `unfinished` are also watched without
   it by threads that spin before they sleep, so they are written
   atomically where the compiler can (GCC, Clang), and watching is only a
   hint: the lock is taken again before anything is decided. */
typedef struct rn__thread_pool_state {
    rn__mutex lock;
    rn__cond job_posted, job_done;
    int workers;           /* threads started */
    int busy;              /* a job runs: another caller runs its own alone */
    rn__chunk_fn run;
    void *context;
    rn_workspace *workspace; /* the caller's: its chunks take scratch from it */
    int chunks, next;      /* chunks of the job, the next one to take */
    int seats, joined;     /* workers the job takes, workers that joined */
    int failed;            /* a chunk ran out of scratch memory */
    int fork_handled;      /* the fork handlers are installed (once) */
    unsigned posted;       /* jobs posted so far */
    unsigned unfinished;   /* chunks not yet done */
} rn__thread_pool_state;

static rn__thread_pool_state rn__thread_pool = {RN__MUTEX_INIT, RN__COND_INIT, RN__COND_INIT,
                                  0, 0, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0u, 0u};

/* While a thread runs a chunk: that it does (a loop inside runs on it
   alone), and its place in the job's team, 0 for the caller (it picks the
   thread's share of a scratch buffer sized for the team). */
static RN__THREAD_LOCAL int rn__running_chunk;
static RN__THREAD_LOCAL int rn__team_thread;

#if defined(__GNUC__) || defined(__clang__)
#define RN__SPINS 1000 /* rounds of the pause below: about 30 us on Zen 4 */
#define rn__watched_store(field, value) __atomic_store_n(&(field), value, __ATOMIC_RELAXED)
#define rn__watched_load(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#if defined(__i386__) || defined(__x86_64__)
#define rn__spin_pause() __builtin_ia32_pause()
#else
#define rn__spin_pause() ((void)0)
#endif
#else
#define RN__SPINS 0 /* no portable atomic read: sleep at once */
#define rn__watched_store(field, value) ((field) = (value))
#define rn__watched_load(field) (field)
#define rn__spin_pause() ((void)0)
#endif

/* Spins a little while *field still holds value, without the lock: the
   job or the last chunk usually comes sooner than a sleep and a wake-up. */
static void rn__spin_while(const unsigned *field, unsigned value)
{
    int round;
    for (round = 0; round < RN__SPINS && rn__watched_load(*field) == value; round++)
        rn__spin_pause();
}

/* Runs a chunk as team thread `thread`, with the scratch of the job's
   caller; puts the thread's own back after, so that no worker keeps a
   network's workspace past the job. */
static void rn__run_chunk(rn__chunk_fn run, void *context, int chunk, int thread,
                          rn_workspace *workspace)
{
    int outer_running = rn__running_chunk, outer_thread = rn__team_thread;
    rn_workspace *outer_workspace = rn__workspace_in_use;
    rn__running_chunk = 1, rn__team_thread = thread, rn__workspace_in_use = workspace;
    run(context, chunk);
    rn__running_chunk = outer_running, rn__team_thread = outer_thread;
    rn__workspace_in_use = outer_workspace;
}

/* Takes the job's chunks one at a time until none is left, as team thread
   `thread`; called and returns with the lock held. A chunk's out-of-memory
   flag is handed to the job, and the caller gets it at the end. */
static void rn__pool_take_chunks(int thread)
{
    while (rn__thread_pool.next < rn__thread_pool.chunks) {
        rn__chunk_fn run = rn__thread_pool.run;
        void *context = rn__thread_pool.context;
        rn_workspace *workspace = rn__thread_pool.workspace;
        int chunk = rn__thread_pool.next++, failed;
        rn__unlock(&rn__thread_pool.lock);
        rn__run_chunk(run, context, chunk, thread, workspace);
        failed = rn__kernel_out_of_memory;
        rn__kernel_out_of_memory = 0;
        rn__lock(&rn__thread_pool.lock);
        rn__thread_pool.failed |= failed;
        rn__watched_store(rn__thread_pool.unfinished, rn__thread_pool.unfinished - 1);
        if (rn__thread_pool.unfinished == 0) rn__cond_broadcast(&rn__thread_pool.job_done);
    }
}

static int rn__pool_job_open(void)
{
    return rn__thread_pool.joined < rn__thread_pool.seats && rn__thread_pool.next < rn__thread_pool.chunks;
}

/* A worker: joins every job that has a seat and a chunk left; between
   jobs it spins briefly, then sleeps. */
static void rn__pool_worker(void)
{
    rn__lock(&rn__thread_pool.lock);
    for (;;) {
        unsigned seen;
        if (rn__pool_job_open()) {
            rn__pool_take_chunks(++rn__thread_pool.joined);
            continue;
        }
        seen = rn__thread_pool.posted;
        rn__unlock(&rn__thread_pool.lock);
        rn__spin_while(&rn__thread_pool.posted, seen);
        rn__lock(&rn__thread_pool.lock);
        if (rn__thread_pool.posted == seen) rn__cond_wait(&rn__thread_pool.job_posted, &rn__thread_pool.lock);
    }
}

#ifdef _WIN32
static DWORD WINAPI rn__pool_worker_main(LPVOID unused)
{
    (void)unused;
    rn__pool_worker();
    return 0;
}

static int rn__pool_start_worker(void)
{
    HANDLE thread = CreateThread(NULL, 0, rn__pool_worker_main, NULL, 0, NULL);
    if (thread == NULL) return 0;
    CloseHandle(thread);
    return 1;
}
#else
static void *rn__pool_worker_main(void *unused)
{
    (void)unused;
    rn__pool_worker();
    return NULL;
}

/* fork() copies only the calling thread: the child starts workers of its
   own, and no lock is held across the fork. */
static void rn__pool_fork_prepare(void) { rn__lock(&rn__thread_pool.lock); }
static void rn__pool_fork_parent(void) { rn__unlock(&rn__thread_pool.lock); }
static void rn__pool_fork_child(void)
{
    rn__thread_pool.workers = 0;
    rn__thread_pool.busy = 0, rn__thread_pool.seats = 0;
    rn__unlock(&rn__thread_pool.lock);
}

static int rn__pool_start_worker(void)
{
    pthread_t thread;
    if (!rn__thread_pool.fork_handled &&
        pthread_atfork(rn__pool_fork_prepare, rn__pool_fork_parent, rn__pool_fork_child) != 0)
        return 0;
    rn__thread_pool.fork_handled = 1;
    if (pthread_create(&thread, NULL, rn__pool_worker_main, NULL) != 0) return 0;
    pthread_detach(thread);
    return 1;
}
#endif

/* Runs the job on the caller and up to team - 1 workers (started on first
   need), and returns when every chunk is done; 0, having run nothing, when
   another caller's job holds the pool or no worker could start. */
static int rn__pool_run(int chunks, int team, rn__chunk_fn run, void *context)
{
    rn__lock(&rn__thread_pool.lock);
    while (rn__thread_pool.workers < team - 1 && !rn__thread_pool.busy && rn__pool_start_worker())
        rn__thread_pool.workers++;
    if (rn__thread_pool.busy || rn__thread_pool.workers == 0) {
        rn__unlock(&rn__thread_pool.lock);
        return 0;
    }
    rn__thread_pool.busy = 1;
    rn__thread_pool.run = run, rn__thread_pool.context = context;
    rn__thread_pool.workspace = rn__workspace_in_use;
    rn__thread_pool.chunks = chunks, rn__thread_pool.next = 0, rn__thread_pool.failed = 0;
    rn__thread_pool.seats = team - 1 < rn__thread_pool.workers ? team - 1 : rn__thread_pool.workers;
    rn__thread_pool.joined = 0;
    rn__watched_store(rn__thread_pool.unfinished, (unsigned)chunks);
    rn__watched_store(rn__thread_pool.posted, rn__thread_pool.posted + 1);
    rn__cond_broadcast(&rn__thread_pool.job_posted);
    rn__pool_take_chunks(0);
    while (rn__thread_pool.unfinished > 0) {
        unsigned left = rn__thread_pool.unfinished;
        rn__unlock(&rn__thread_pool.lock);
        rn__spin_while(&rn__thread_pool.unfinished, left);
        rn__lock(&rn__thread_pool.lock);
        if (rn__thread_pool.unfinished == left) rn__cond_wait(&rn__thread_pool.job_done, &rn__thread_pool.lock);
    }
    rn__thread_pool.seats = 0, rn__thread_pool.busy = 0;
    if (rn__thread_pool.failed) rn__kernel_out_of_memory = 1;
    rn__unlock(&rn__thread_pool.lock);
    return 1;
}
/* First-use set-up that every thread may reach, one thread at a time. */
#define rn__exclusive_begin() rn__lock(&rn__thread_pool.lock)
#define rn__exclusive_end() rn__unlock(&rn__thread_pool.lock)
#else
#define rn__exclusive_begin() ((void)0)
#define rn__exclusive_end() ((void)0)
#endif /* RN__POOL */

/* Runs every chunk of a job on up to `team` threads (see rn__team_size),
   else on the calling thread, as thread 0 of a team of one. */
static void rn__parallel_for(int chunks, int team, rn__chunk_fn run, void *context)
{
    int chunk;
#ifdef RN__POOL
    if (team > 1 && chunks > 1 && rn__pool_run(chunks, team, run, context)) return;
    for (chunk = 0; chunk < chunks; chunk++) rn__run_chunk(run, context, chunk, 0, rn__workspace_in_use);
#else
    (void)team;
    for (chunk = 0; chunk < chunks; chunk++) run(context, chunk);
#endif
}

/* The threads a loop over `items` independent items of `flops` work in all
   gets: one inside a parallel loop (the outer loop already uses every
   thread; OpenMP's of the caller, or a chunk of the pool's), and one when
   the work would not pay for waking the others. */
static int rn__team_size(int items, double flops)
{
    int threads = rn_threads();
#ifdef RN__POOL
    if (omp_in_parallel() || rn__running_chunk) return 1;
#endif
    if (flops < 1e6) return 1;
    return threads < items ? threads : items;
}

/* The calling thread's place in the team of the job it runs a chunk of, 0
   outside one: it picks the thread's share of a buffer sized for the team,
   and its stack of a network's workspace. */
static int rn__thread_id(void)
{
#ifdef RN__POOL
    return rn__team_thread;
#else
    return 0;
#endif
}

/* ----- the kernels' scratch ----- */

static size_t rn__scratch_rounded(size_t bytes)
{
    return (bytes + RN__ALIGNMENT - 1) / RN__ALIGNMENT * RN__ALIGNMENT;
}

/* This thread's stack of the workspace in use, or NULL. */
static rn_workspace_stack *rn__scratch_stack(void)
{
    rn_workspace *workspace = rn__workspace_in_use;
    int id = rn__thread_id();
    return workspace != NULL && id < workspace->count ? &workspace->stacks[id] : NULL;
}

static void *rn__scratch_take(size_t bytes)
{
    rn_workspace_stack *stack = rn__scratch_stack();
    void *block;
    if (bytes > (size_t)-1 - RN__ALIGNMENT) return NULL;
    bytes = rn__scratch_rounded(bytes);
    if (stack == NULL) return rn__malloc_aligned(bytes);
    stack->live += bytes;
    if (stack->live > stack->most) stack->most = stack->live;
    if (stack->size - stack->used >= bytes) {
        block = stack->memory + stack->used;
        stack->used += bytes;
        return block;
    }
    block = rn__malloc_aligned(bytes); /* until the pass ends and the stack grows */
    if (block == NULL) stack->live -= bytes;
    return block;
}

static void rn__scratch_give(void *block, size_t bytes)
{
    rn_workspace_stack *stack = rn__scratch_stack();
    uintptr_t at = (uintptr_t)block, start;
    if (stack == NULL) {
        rn__free_aligned(block);
        return;
    }
    stack->live -= rn__scratch_rounded(bytes);
    start = (uintptr_t)stack->memory;
    if (stack->memory != NULL && at >= start && at < start + stack->size)
        stack->used = (size_t)(at - start);
    else
        rn__free_aligned(block);
}

static int rn__workspace_enter(rn_net *net, rn_workspace **previous, const char *caller)
{
    rn_workspace *workspace = &net->workspace;
    int needed = rn_threads(); /* a stack for each thread of a kernel's team */
    *previous = rn__workspace_in_use;
    if (net->arena != NULL) {
        rn__workspace_in_use = NULL;
        return RN_OK;
    }
    if (workspace->count < needed) {
        rn_workspace_stack *stacks = (rn_workspace_stack *)rn__calloc((size_t)needed, sizeof *stacks);
        if (stacks == NULL)
            return rn_set_error(RN_ERR_MEMORY, "%s: no memory for %d workspace stacks", caller, needed);
        if (workspace->count > 0) {
            memcpy(stacks, workspace->stacks, (size_t)workspace->count * sizeof *stacks);
            RN_FREE(workspace->stacks);
        }
        workspace->stacks = stacks;
        workspace->count = needed;
    }
    rn__workspace_in_use = workspace;
    return RN_OK;
}

/* The most any stack of the workspace was asked to hold. */
static size_t rn__workspace_most(const rn_workspace *workspace)
{
    size_t most = 0;
    int i;
    for (i = 0; i < workspace->count; i++)
        if (workspace->stacks[i].most > most) most = workspace->stacks[i].most;
    return most;
}

/* Ends a pass: every stack grows to the most any of them held. Which
   thread runs a chunk depends on timing (a worker that wakes late finds
   the chunks taken), so a worker that ran nothing in this pass may run
   the largest chunk in the next. */
static int rn__workspace_leave(rn_net *net, rn_workspace *previous, int status, const char *caller)
{
    rn_workspace *workspace = &net->workspace;
    size_t most = rn__workspace_most(workspace);
    int i;
    rn__workspace_in_use = previous;
    for (i = 0; net->arena == NULL && i < workspace->count; i++) {
        rn_workspace_stack *stack = &workspace->stacks[i];
        unsigned char *memory;
        if (most <= stack->size) continue;
        memory = (unsigned char *)rn__malloc_aligned(most);
        if (memory == NULL)
            return status != RN_OK ? status
                                   : rn_set_error(RN_ERR_MEMORY, "%s: cannot grow the workspace "
                                                  "to %lu bytes", caller, (unsigned long)most);
        rn__free_aligned(stack->memory);
        stack->memory = memory;
        stack->size = most;
    }
    return status;
}

static void rn__workspace_free(rn_workspace *workspace)
{
    int i;
    for (i = 0; i < workspace->count; i++) rn__free_aligned(workspace->stacks[i].memory);
    if (workspace->stacks != NULL) RN_FREE(workspace->stacks);
    workspace->stacks = NULL;
    workspace->count = 0;
}

/* RN_OK, or the error for kernels that found no scratch memory since the
   flag was last cleared. */
static int rn__kernel_status(const char *caller)
{
    if (!rn__kernel_out_of_memory) return RN_OK;
    rn__kernel_out_of_memory = 0;
    return rn_set_error(RN_ERR_MEMORY, "%s: no memory for the %s kernels' scratch space", caller,
                        rn_isa_name());
}

/* Compilers with GCC's extensions build each instruction set's kernels
   with a function-level target attribute, so one binary carries them all
   and uses only what the CPU it runs on reports. */
#if !defined(RELUNET_NO_SIMD) && (defined(__GNUC__) || defined(__clang__)) && !defined(__TINYC__)
#if defined(__x86_64__) || defined(__i386__)
#define RN__X86 1
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_NEON))
#define RN__NEON 1
#endif
#endif
#ifdef RN__X86
#include <cpuid.h>
/* GCC 12's AVX-512 intrinsics start their undefined vectors from
   themselves (__Y = __Y), which g++ -Wuninitialized reports in them. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
#ifdef RN__NEON
#include <arm_neon.h>
#endif

/* ----- scalar reference ----- */

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

static void rn__relu_forward_scalar(const float *x, float *y, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = x[i] <= 0.0f ? 0.0f : x[i]; /* NaN stays NaN */
}

static void rn__relu_backward_scalar(const float *x, const float *dy, float *dx, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) dx[i] = x[i] <= 0.0f ? 0.0f : dy[i];
}

static void rn__prelu_forward_scalar(const float *x, float *y, size_t n, float slope)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

static double rn__prelu_backward_scalar(const float *x, const float *dy, float *dx, size_t n,
                                        float slope)
{
    double dslope = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        int positive = x[i] > 0.0f;
        dx[i] = positive ? dy[i] : slope * dy[i];
        dslope += positive ? 0.0f : dy[i] * x[i];
    }
    return dslope;
}

/* The references are the C library's expf and tanhf. */
static void rn__exp_values_scalar(const float *x, float *y, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = expf(x[i]);
}

static void rn__tanh_values_scalar(const float *x, float *y, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

/* 1 / (1 + e) for x >= 0, e / (1 + e) below, e = e^-|x|: the tail below
   -88 stays subnormal instead of 1 / infinity. */
static void rn__sigmoid_values_scalar(const float *x, float *y, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float e = expf(-fabsf(x[i]));
        y[i] = (x[i] > 0.0f ? 1.0f : e) / (1.0f + e);
    }
}

static void rn__affine_backward_scalar(const float *x, const float *dy, float *dx, size_t n,
                                       float a, float b, float k0, float k1, double *sums)
{
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
    sums[0] = da, sums[1] = db, sums[2] = dc, sums[3] = dd;
}

/* The blocked product and the convolutions built on it exist only to run
   the SIMD micro-kernels: scalar-only builds (tcc, RELUNET_NO_SIMD, other
   CPUs) keep the reference kernels above and nothing else. */
#if defined(RN__X86) || defined(RN__NEON)

static void rn__kernel_fail(void) { rn__kernel_out_of_memory = 1; }

/* ----- blocked matrix product ----- */

enum { RN__MAX_KC = 512, RN__MAX_MR = 8, RN__MAX_NR = 32 };

/* Bytes of one core's share of L1 and L2 and of the whole L3 (0: not
   reported), and how many logical processors may share L3. */
typedef struct rn__caches {
    long l1, l2, l3, l3_sharing;
} rn__caches;

#ifdef RN__X86
/* Intel's deterministic cache parameters (leaf 4) and AMD's copy of them
   (leaf 0x8000001D) describe one cache per subleaf: type (1 data, 3
   unified), level, ways x partitions x line size x sets, and how many
   logical processors share it. */
static void rn__caches_from_cpuid(unsigned leaf, rn__caches *caches)
{
    unsigned subleaf, eax, ebx, ecx, edx;
    if ((unsigned)__get_cpuid_max(leaf & 0x80000000u, NULL) < leaf) return;
    for (subleaf = 0; subleaf < 16; subleaf++) {
        long size, sharing;
        __cpuid_count(leaf, subleaf, eax, ebx, ecx, edx);
        if ((eax & 31u) == 0) break; /* no more caches */
        if ((eax & 31u) != 1 && (eax & 31u) != 3) continue;
        size = (long)((ebx >> 22) + 1) * (((ebx >> 12) & 1023u) + 1) * ((ebx & 4095u) + 1) *
               ((long)ecx + 1);
        sharing = (long)((eax >> 14) & 4095u) + 1;
        switch ((eax >> 5) & 7u) {
        case 1: caches->l1 = size; break;
        case 2: caches->l2 = size / (sharing > 2 ? sharing / 2 : 1); break; /* per core, SMT pairs */
        case 3: caches->l3 = size, caches->l3_sharing = sharing; break;
        }
    }
    (void)edx;
}
#elif defined(__linux__) && defined(_SC_LEVEL1_DCACHE_SIZE)
#include <unistd.h>
#endif

static rn__caches rn__cpu_caches(void)
{
    rn__caches caches = {0, 0, 0, 1};
#ifdef RN__X86
    rn__caches_from_cpuid(4, &caches);
    if (caches.l1 == 0) rn__caches_from_cpuid(0x8000001Du, &caches);
#elif defined(__linux__) && defined(_SC_LEVEL1_DCACHE_SIZE)
    caches.l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    caches.l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    caches.l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
    return caches;
}

/* op(A) is m x k, op(B) is k x n; transposes are folded into strides:
   op(A)(i, p) = a[i * a_row + p * a_depth], op(B)(p, j) = b[p * b_depth + j * b_col].
   A convolution's B is never stored (see rn__conv_layout): with b_rows,
   row p of B starts at b + b_rows[p] and is read in place; with pack_b, B
   is gathered by that function instead of rn__pack. */
typedef struct rn__gemm {
    int m, n, k;
    const float *a, *b;
    float *c;
    ptrdiff_t a_row, a_depth, b_depth, b_col;
    int ldc;
    const ptrdiff_t *b_rows;
    void (*pack_b)(const struct rn__gemm *g, int j0, int width, int p0, int depth, int lanes,
                   float *out);
} rn__gemm;

/* Writes the 4 x 4 block rows[0..3][d .. d+3] transposed: value j of row i
   to dst[j * stride + i]. Only the SIMD tables pack with it, so the SSE2
   and NEON versions always run on CPUs that have them. */
#if defined(RN__X86)
static __attribute__((target("sse2"))) void rn__transpose4(const float *const *rows, int d,
                                                             float *dst, int stride)
{
    __m128 r0 = _mm_loadu_ps(rows[0] + d), r1 = _mm_loadu_ps(rows[1] + d);
    __m128 r2 = _mm_loadu_ps(rows[2] + d), r3 = _mm_loadu_ps(rows[3] + d);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(dst, r0);
    _mm_storeu_ps(dst + stride, r1);
    _mm_storeu_ps(dst + 2 * stride, r2);
    _mm_storeu_ps(dst + 3 * stride, r3);
}
#elif defined(RN__NEON)
static void rn__transpose4(const float *const *rows, int d, float *dst, int stride)
{
    float32x4x2_t t01 = vtrnq_f32(vld1q_f32(rows[0] + d), vld1q_f32(rows[1] + d));
    float32x4x2_t t23 = vtrnq_f32(vld1q_f32(rows[2] + d), vld1q_f32(rows[3] + d));
    vst1q_f32(dst, vcombine_f32(vget_low_f32(t01.val[0]), vget_low_f32(t23.val[0])));
    vst1q_f32(dst + stride, vcombine_f32(vget_low_f32(t01.val[1]), vget_low_f32(t23.val[1])));
    vst1q_f32(dst + 2 * stride, vcombine_f32(vget_high_f32(t01.val[0]), vget_high_f32(t23.val[0])));
    vst1q_f32(dst + 3 * stride, vcombine_f32(vget_high_f32(t01.val[1]), vget_high_f32(t23.val[1])));
}
#endif

/* Interleaves `used` rows of `depth` values into a panel of `lanes`:
   value d of row w goes to panel[d * lanes + w]. */
static void rn__interleave(const float *const *rows, int used, int depth, int lanes, float *panel)
{
    int w, d, lane;
    for (w = 0; w + 4 <= used; w += 4) {
        for (d = 0; d + 4 <= depth; d += 4)
            rn__transpose4(rows + w, d, panel + d * lanes + w, lanes);
        for (; d < depth; d++)
            for (lane = w; lane < w + 4; lane++) panel[d * lanes + lane] = rows[lane][d];
    }
    for (; w < used; w++)
        for (d = 0; d < depth; d++) panel[d * lanes + w] = rows[w][d];
}

/* Copies a width x depth block, element (w, d) at x[w * stride_w + d *
   stride_d], into panels of `lanes` elements: panel q is depth groups of
   lanes consecutive values, at out + q * lanes * depth, the order a
   micro-kernel streams them. The last panel is padded with zeros, so
   micro-kernels never see a ragged edge. Loops run along whichever source
   dimension is contiguous: a row read once across all panels costs far less
   than short reads a large power-of-two stride apart, which share cache sets. */
static void rn__pack(const float *x, ptrdiff_t stride_w, ptrdiff_t stride_d, int width, int depth,
                     int lanes, float *out)
{
    int first, w, d;
    for (first = 0; first < width; first += lanes) {
        float *panel = out + (size_t)first * depth;
        int used = width - first < lanes ? width - first : lanes;
        for (d = 0; used < lanes && d < depth; d++)
            for (w = used; w < lanes; w++) panel[d * lanes + w] = 0.0f;
        if (stride_w != 1 && stride_d == 1) {
            const float *rows[RN__MAX_NR];
            for (w = 0; w < used; w++) rows[w] = x + (first + w) * stride_w;
            rn__interleave(rows, used, depth, lanes, panel);
        } else if (stride_w != 1) {
            for (w = 0; w < used; w++)
                for (d = 0; d < depth; d++)
                    panel[d * lanes + w] = x[(first + w) * stride_w + d * stride_d];
        }
    }
    if (stride_w == 1)
        for (d = 0; d < depth; d++)
            for (first = 0; first < width; first += lanes) {
                float *panel = out + (size_t)first * depth + (size_t)d * lanes;
                const float *row = x + d * stride_d + first;
                int used = width - first < lanes ? width - first : lanes;
                for (w = 0; w < used; w++) panel[w] = row[w];
            }
}

/* One micro-tile; edge tiles go through a full-size scratch tile. */
static void rn__micro_tile(const rn__kernel_table *kt, int depth, const float *a, const float *b,
                           const ptrdiff_t *b_rows, float *c, int ldc, int rows, int cols)
{
    float tile[RN__MAX_MR * RN__MAX_NR];
    int i, j;
    if (rows == kt->mr && cols == kt->nr) {
        kt->micro(depth, a, b, b_rows, c, ldc);
        return;
    }
    memset(tile, 0, sizeof tile);
    kt->micro(depth, a, b, b_rows, tile, kt->nr);
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) c[(size_t)i * ldc + j] += tile[i * kt->nr + j];
}

/* How much of A and B one packing step takes: depth, rows of A, columns of B. */
typedef struct rn__blocking {
    int kc, mc, nc;
} rn__blocking;

/* Block sizes from the caches (Goto and van de Geijn 2008; Low et al.
   2016 for the analytical model): the kc x nr micro-panel of B the
   micro-kernel streams fills half of L1, the mc x kc block of A half of
   L2, the kc x nc block of B half of each thread's share of L3 (at most
   4096 columns, which keeps the workspace a few MiB). L3 is shared by the
   threads that run, not by every processor cpuid says may share it: that
   is a bound (254 on a 2-CPU virtual machine of a Zen 5 EPYC, which cut
   its 32 MiB L3 to 258 KiB each and B blocks to 160 columns, and the
   1024 x 1024 product to 63% of peak instead of 81%). Caches the CPU
   does not report count as 32 KiB, 512 KiB and 2 MiB. Each is rounded
   down to whole micro-panels. */
static rn__blocking rn__blocking_of(const rn__kernel_table *kt)
{
    static rn__caches caches;
    static int known;
    rn__blocking block;
    long l1, l2, l3, sharing;
    rn__exclusive_begin();
    if (!known) caches = rn__cpu_caches(), known = 1;
    rn__exclusive_end();
    sharing = caches.l3_sharing < rn_threads() ? caches.l3_sharing : rn_threads();
    l1 = caches.l1 > 0 ? caches.l1 : 32768, l2 = caches.l2 > 0 ? caches.l2 : 524288;
    l3 = caches.l3 > 0 ? caches.l3 / sharing : 2097152;
    block.kc = (int)(l1 / 2 / ((long)kt->nr * (long)sizeof(float))) / 8 * 8;
    block.kc = block.kc < 64 ? 64 : block.kc > RN__MAX_KC ? RN__MAX_KC : block.kc;
    block.mc = (int)(l2 / 2 / ((long)block.kc * (long)sizeof(float))) / kt->mr * kt->mr;
    block.mc = block.mc < kt->mr ? kt->mr : block.mc;
    block.nc = (int)(l3 / 2 / ((long)block.kc * (long)sizeof(float))) / kt->nr * kt->nr;
    block.nc = block.nc < 4 * kt->nr ? 4 * kt->nr : block.nc > 4096 ? 4096 / kt->nr * kt->nr : block.nc;
    return block;
}

/* C[i0.., j0..] += the rows x cols region of op(A) op(B), in the loop
   order of Goto and van de Geijn: a block of B is packed once per depth
   step and reused by every block of A. Every element of C sums its
   products in the same order whichever region it falls in. */
static void rn__gemm_region(const rn__kernel_table *kt, const rn__gemm *g, rn__blocking block,
                            int i0, int rows, int j0, int cols, float *packed_a, float *packed_b)
{
    ptrdiff_t packed_rows[RN__MAX_KC];
    int jc, pc, ic, ir, jr;
    for (pc = 0; pc < block.kc && pc < g->k; pc++) packed_rows[pc] = (ptrdiff_t)pc * kt->nr;
    for (jc = j0; jc < j0 + cols; jc += block.nc) {
        int width = j0 + cols - jc < block.nc ? j0 + cols - jc : block.nc;
        for (pc = 0; pc < g->k; pc += block.kc) {
            int depth = g->k - pc < block.kc ? g->k - pc : block.kc;
            int in_place = g->b_rows != NULL && g->pack_b == NULL;
            if (g->pack_b)
                g->pack_b(g, jc, width, pc, depth, kt->nr, packed_b);
            else if (!in_place)
                rn__pack(g->b + jc * g->b_col + pc * g->b_depth, g->b_col, g->b_depth, width,
                         depth, kt->nr, packed_b);
            for (ic = i0; ic < i0 + rows; ic += block.mc) {
                int height = i0 + rows - ic < block.mc ? i0 + rows - ic : block.mc;
                rn__pack(g->a + ic * g->a_row + pc * g->a_depth, g->a_row, g->a_depth, height,
                         depth, kt->mr, packed_a);
                for (jr = 0; jr < width; jr += kt->nr)
                    for (ir = 0; ir < height; ir += kt->mr)
                        rn__micro_tile(kt, depth, packed_a + (size_t)ir * depth,
                                       in_place ? g->b + jc + jr : packed_b + (size_t)jr * depth,
                                       in_place ? g->b_rows + pc : packed_rows,
                                       g->c + (size_t)(ic + ir) * g->ldc + jc + jr, g->ldc,
                                       height - ir < kt->mr ? height - ir : kt->mr,
                                       width - jr < kt->nr ? width - jr : kt->nr);
            }
        }
    }
}

static void rn__scale_matrix(float *c, int m, int n, int ldc, float beta)
{
    int i, j;
    if (beta == 1.0f) return;
    for (i = 0; i < m; i++) {
        float *row = c + (size_t)i * ldc;
        if (beta == 0.0f) memset(row, 0, (size_t)n * sizeof(float)); /* drops NaN, like BLAS */
        else for (j = 0; j < n; j++) row[j] *= beta;
    }
}

/* C += op(A) op(B), cut into regions, bands of whole micro-panels along
   the longer side, that threads take one at a time: a few per thread, so
   that one slowed down by a busy core leaves the rest to the others. K is
   never split, so the result does not depend on the thread count. */
enum { RN__REGIONS_PER_THREAD = 4 };

typedef struct rn__gemm_job {
    const rn__kernel_table *kt;
    const rn__gemm *g;
    rn__blocking block;
    int split_n, panels, regions;
    size_t pack_size;   /* floats of each thread's packed blocks */
    float *workspace;
} rn__gemm_job;

static void rn__gemm_job_region(void *context, int region)
{
    const rn__gemm_job *job = (const rn__gemm_job *)context;
    const rn__kernel_table *kt = job->kt;
    const rn__gemm *g = job->g;
    float *packed_a = job->workspace + job->pack_size * rn__thread_id();
    float *packed_b = packed_a + (size_t)job->block.kc * job->block.mc;
    int first = job->panels * region / job->regions;
    int last = job->panels * (region + 1) / job->regions;
    if (job->split_n) {
        int j0 = first * kt->nr, j1 = last * kt->nr < g->n ? last * kt->nr : g->n;
        rn__gemm_region(kt, g, job->block, 0, g->m, j0, j1 - j0, packed_a, packed_b);
    } else {
        int i0 = first * kt->mr, i1 = last * kt->mr < g->m ? last * kt->mr : g->m;
        rn__gemm_region(kt, g, job->block, i0, i1 - i0, 0, g->n, packed_a, packed_b);
    }
}

static void rn__gemm_run(const rn__gemm *g)
{
    const rn__kernel_table *kt = rn__kernels();
    rn__gemm_job job;
    int panels_m = (g->m + kt->mr - 1) / kt->mr, panels_n = (g->n + kt->nr - 1) / kt->nr;
    int threads;
    if (g->m <= 0 || g->n <= 0 || g->k <= 0) return;
    job.kt = kt, job.g = g;
    job.split_n = panels_n >= panels_m, job.panels = job.split_n ? panels_n : panels_m;
    threads = rn__team_size(job.panels, 2.0 * g->m * g->n * g->k);
    job.regions = threads == 1                                        ? 1
                  : job.panels < threads * RN__REGIONS_PER_THREAD ? job.panels
                                                                    : threads * RN__REGIONS_PER_THREAD;
    job.block = rn__blocking_of(kt);
    /* No block larger than the matrix, so small products get small
       workspaces; B read in place has no block of it to fit. */
    if (job.block.mc > panels_m * kt->mr) job.block.mc = panels_m * kt->mr;
    if (job.block.nc > panels_n * kt->nr || (g->b_rows && !g->pack_b))
        job.block.nc = panels_n * kt->nr;
    job.pack_size = (size_t)job.block.kc * (job.block.mc + job.block.nc);
    job.workspace = (float *)rn__scratch_take(job.pack_size * threads * sizeof(float));
    if (job.workspace == NULL) {
        rn__kernel_fail();
        return;
    }
    rn__parallel_for(job.regions, threads, rn__gemm_job_region, &job);
    rn__scratch_give(job.workspace, job.pack_size * threads * sizeof(float));
}

static void rn__sgemm_packed(int transpose_a, int transpose_b, int m, int n, int k,
                             const float *a, int lda, const float *b, int ldb, float beta,
                             float *c, int ldc)
{
    rn__gemm g;
    memset(&g, 0, sizeof g);
    g.m = m, g.n = n, g.k = k, g.a = a, g.b = b, g.c = c, g.ldc = ldc;
    g.a_row = transpose_a ? 1 : lda;
    g.a_depth = transpose_a ? lda : 1;
    g.b_depth = transpose_b ? 1 : ldb;
    g.b_col = transpose_b ? ldb : 1;
    rn__scale_matrix(c, m, n, ldc, beta);
    rn__gemm_run(&g);
}

/* ----- convolution as a matrix product ----- */

/* A convolution is a matrix product with the image's im2col matrix, which
   has a row for each filter tap t = (c, kh, kw) and a column for each
   output position, holding the input value the tap sees there: forward is
   W (out_channels x taps) times it, the weight gradient dy times its
   transpose, the input gradient W' dy added back where each tap read.

   The im2col matrix is never stored. The image is copied once, padded,
   into a layout in which every row of it is one contiguous stretch: each
   padded channel plane is split into stride x stride phases (phase (a, b)
   keeps rows a, a + stride, ... and columns b, b + stride, ...), so that
   tap (c, kh, kw) reads phase (kh % stride, kw % stride) with stride 1 from
   row kh / stride, column kw / stride on. Output positions then run over
   whole rows of a phase plane, `width` wide where the output is only
   out_width: the extra columns are computed and dropped, which is cheaper
   than gathering (12% more work for the 5x5 "same" convolutions on 28x28,
   none for 2x2 stride 2). Small images are laid side by side, a group of
   `images` planes per phase, so that one product is long enough to run at
   full speed. */
typedef struct rn__conv_layout {
    int images;        /* images in one group */
    int height, width; /* of one phase plane of one image */
    size_t plane;      /* height * width */
    size_t phase;      /* images * plane: one phase of one channel for the whole group */
    size_t size;       /* floats of a padded group, with slack for a whole last micro-panel */
} rn__conv_layout;

/* Positions of a product below which per-call costs start to show. */
enum { RN__CONV_MIN_POSITIONS = 512 };

static rn__conv_layout rn__conv_layout_of(const rn__conv_geometry *g)
{
    rn__conv_layout layout;
    int s = g->stride;
    layout.height = (g->in_height + 2 * g->padding + s - 1) / s;
    layout.width = (g->in_width + 2 * g->padding + s - 1) / s;
    layout.plane = (size_t)layout.height * layout.width;
    layout.images = (int)((RN__CONV_MIN_POSITIONS + layout.plane - 1) / layout.plane);
    if (layout.images > g->batch) layout.images = g->batch;
    layout.phase = (size_t)layout.images * layout.plane;
    layout.size = (size_t)g->in_channels * s * s * layout.phase + layout.width + RN__MAX_NR;
    return layout;
}

/* Output positions of a group of `count` images: the last needs only its
   out_height rows. Image i's output (oh, ow) is position
   i * plane + oh * width + ow. */
static int rn__conv_positions(const rn__conv_geometry *g, const rn__conv_layout *layout, int count)
{
    return (int)((count - 1) * layout->plane) + g->out_height * layout->width;
}

/* Copies `count` images into a group's padded, phase-split layout. Padded
   row y = ih + padding is row y / s of row phase y % s, and likewise for
   columns; both are counted up rather than divided for. */
static void rn__conv_pad(const rn__conv_geometry *g, const rn__conv_layout *layout,
                         const float *images, int count, float *padded)
{
    int s = g->stride, i, c, ih, iw;
    const float *row = images;
    memset(padded, 0, layout->size * sizeof(float));
    for (i = 0; i < count; i++)
        for (c = 0; c < g->in_channels; c++) {
            int a = g->padding % s, r = g->padding / s;
            for (ih = 0; ih < g->in_height; ih++, row += g->in_width) {
                float *out = padded + (size_t)(c * s + a) * s * layout->phase + i * layout->plane +
                             (size_t)r * layout->width;
                int b = g->padding % s, q = g->padding / s;
                if (s == 1)
                    memcpy(out + q, row, (size_t)g->in_width * sizeof(float));
                else
                    for (iw = 0; iw < g->in_width; iw++) {
                        out[b * layout->phase + q] = row[iw];
                        if (++b == s) b = 0, q++;
                    }
                if (++a == s) a = 0, r++;
            }
        }
}

/* Where each tap's im2col row starts in a padded group. */
static void rn__conv_tap_offsets(const rn__conv_geometry *g, const rn__conv_layout *layout,
                                 ptrdiff_t *offsets)
{
    int s = g->stride, c, kh, kw;
    for (c = 0; c < g->in_channels; c++)
        for (kh = 0; kh < g->kernel; kh++)
            for (kw = 0; kw < g->kernel; kw++)
                *offsets++ = (ptrdiff_t)(((size_t)c * s + kh % s) * s + kw % s) * layout->phase +
                             (ptrdiff_t)(kh / s) * layout->width + kw / s;
}

/* Moves a group's product rows (out_channels x positions) to or from the
   images' outputs (out_channels x out_height x out_width each). */
static void rn__conv_stage(const rn__conv_geometry *g, const rn__conv_layout *layout, int count,
                           float *images, float *product, int to_images)
{
    int positions = rn__conv_positions(g, layout, count), i, o, oh;
    size_t row_bytes = (size_t)g->out_width * sizeof(float);
    if (!to_images) memset(product, 0, (size_t)g->out_channels * positions * sizeof(float));
    for (i = 0; i < count; i++)
        for (o = 0; o < g->out_channels; o++)
            for (oh = 0; oh < g->out_height; oh++) {
                size_t plane = ((size_t)i * g->out_channels + o) * g->out_height;
                float *image_row = images + (plane + oh) * g->out_width;
                float *product_row = product + (size_t)o * positions + i * layout->plane +
                                     (size_t)oh * layout->width;
                if (to_images) memcpy(image_row, product_row, row_bytes);
                else memcpy(product_row, image_row, row_bytes);
            }
}

/* What a convolution pass shares between groups, and every thread's
   scratch: a padded group and an out_channels x positions staging area. */
typedef struct rn__conv_work {
    rn__conv_layout layout;
    int groups;
    ptrdiff_t *taps;
    float *scratch;
    size_t per_thread;
    size_t bytes; /* of the block taps and scratch share */
} rn__conv_work;

static int rn__conv_work_new(rn__conv_work *work, const rn__conv_geometry *g, int threads)
{
    size_t taps = (size_t)g->in_channels * g->kernel * g->kernel;
    size_t tap_floats = (taps * sizeof(ptrdiff_t) + RN__ALIGNMENT - 1) / RN__ALIGNMENT *
                        (RN__ALIGNMENT / sizeof(float));
    work->layout = rn__conv_layout_of(g);
    work->groups = (g->batch + work->layout.images - 1) / work->layout.images;
    work->per_thread = work->layout.size + (size_t)g->out_channels *
                       rn__conv_positions(g, &work->layout, work->layout.images);
    work->per_thread = (work->per_thread + 15) / 16 * 16; /* keep every thread's part aligned */
    work->bytes = (tap_floats + work->per_thread * threads) * sizeof(float);
    work->taps = (ptrdiff_t *)rn__scratch_take(work->bytes);
    if (work->taps == NULL) return 0;
    work->scratch = (float *)work->taps + tap_floats;
    rn__conv_tap_offsets(g, &work->layout, work->taps);
    return 1;
}

static float *rn__conv_scratch(const rn__conv_work *work)
{
    return work->scratch + work->per_thread * rn__thread_id();
}

/* The images of group `group`: the first, and how many. */
static int rn__conv_group(const rn__conv_geometry *g, const rn__conv_work *work, int group,
                          int *count)
{
    int first = group * work->layout.images;
    *count = g->batch - first < work->layout.images ? g->batch - first : work->layout.images;
    return first;
}

/* y = W times the im2col matrix, plus bias, for one group of images. */
static void rn__conv_group_forward(const rn__conv_geometry *g, const rn__conv_work *work, int group,
                                   const float *x, const float *w, const float *bias, float *y)
{
    const rn__conv_layout *layout = &work->layout;
    float *padded = rn__conv_scratch(work), *product = padded + layout->size;
    int count, first = rn__conv_group(g, work, group, &count), positions, o, i;
    rn__gemm gemm;
    positions = rn__conv_positions(g, layout, count);
    rn__conv_pad(g, layout, x + (size_t)first * g->in_channels * g->in_height * g->in_width, count,
                 padded);
    for (o = 0; o < g->out_channels; o++)
        for (i = 0; i < positions; i++) product[(size_t)o * positions + i] = bias ? bias[o] : 0.0f;
    memset(&gemm, 0, sizeof gemm);
    gemm.m = g->out_channels, gemm.n = positions, gemm.k = g->in_channels * g->kernel * g->kernel;
    gemm.a = w, gemm.a_row = gemm.k, gemm.a_depth = 1;
    gemm.b = padded, gemm.b_rows = work->taps;
    gemm.c = product, gemm.ldc = positions;
    rn__gemm_run(&gemm);
    rn__conv_stage(g, layout, count,
                   y + (size_t)first * g->out_channels * g->out_height * g->out_width, product, 1);
}

/* A convolution pass's operands, for the threads that share its groups. */
typedef struct rn__conv_job {
    const rn__conv_geometry *g;
    const rn__conv_work *work;
    const float *x, *w, *bias, *dy;
    float *y;
    float *partials;      /* weight gradient: one per slice of the batch */
    size_t partial_size;
    int slices;
} rn__conv_job;

static void rn__conv_job_forward(void *context, int group)
{
    const rn__conv_job *job = (const rn__conv_job *)context;
    rn__conv_group_forward(job->g, job->work, group, job->x, job->w, job->bias, job->y);
}

/* Groups are independent in forward and input gradient: threads take
   whole groups (and the products inside them run on one thread). */
static void rn__conv2d_forward_gemm(const rn__conv_geometry *g, const float *x, const float *w,
                                    const float *bias, float *y)
{
    double flops = 2.0 * g->batch * g->out_channels * g->out_height * g->out_width *
                   g->in_channels * g->kernel * g->kernel;
    int threads = rn__team_size(g->batch, flops);
    rn__conv_work work;
    rn__conv_job job;
    if (!rn__conv_work_new(&work, g, threads)) {
        rn__kernel_fail();
        return;
    }
    memset(&job, 0, sizeof job);
    job.g = g, job.work = &work, job.x = x, job.w = w, job.bias = bias, job.y = y;
    rn__parallel_for(work.groups, threads, rn__conv_job_forward, &job);
    rn__scratch_give(work.taps, work.bytes);
}

/* With stride 1 the input gradient is itself a convolution: of dy, padded
   by kernel - 1 - padding, with the filters turned by 180 degrees and the
   channel roles swapped. */
static int rn__conv_input_grad_as_forward(const rn__conv_geometry *g, rn__conv_geometry *as_forward)
{
    if (g->stride != 1 || g->padding > g->kernel - 1) return 0;
    *as_forward = *g;
    as_forward->in_channels = g->out_channels;
    as_forward->in_height = g->out_height, as_forward->in_width = g->out_width;
    as_forward->out_channels = g->in_channels;
    as_forward->out_height = g->in_height, as_forward->out_width = g->in_width;
    as_forward->padding = g->kernel - 1 - g->padding;
    return 1;
}

/* Otherwise the gradient of the im2col matrix, W' dy, is formed and each
   of its values added back where its tap read it (col2im). */
static void rn__col2im(const rn__conv_geometry *g, const float *columns, float *image)
{
    int c, kh, kw, oh, ow;
    for (c = 0; c < g->in_channels; c++)
        for (kh = 0; kh < g->kernel; kh++)
            for (kw = 0; kw < g->kernel; kw++) {
                int oh_first, oh_last, ow_first, ow_last;
                rn__valid_outputs(g->out_height, g->in_height, kh - g->padding, g->stride,
                                  &oh_first, &oh_last);
                rn__valid_outputs(g->out_width, g->in_width, kw - g->padding, g->stride,
                                  &ow_first, &ow_last);
                for (oh = oh_first; oh < oh_last; oh++) {
                    float *row = image +
                                 ((size_t)c * g->in_height + oh * g->stride + kh - g->padding) *
                                     g->in_width +
                                 kw - g->padding;
                    const float *column_row = columns + (size_t)oh * g->out_width;
                    for (ow = ow_first; ow < ow_last; ow++) row[ow * g->stride] += column_row[ow];
                }
                columns += (size_t)g->out_height * g->out_width;
            }
}

static rn__conv_geometry rn__one_image(const rn__conv_geometry *g)
{
    rn__conv_geometry one = *g;
    one.batch = 1;
    return one;
}

/* The input gradient through col2im, for the threads that share its
   images: each thread forms one image's columns at a time in its own
   share of the workspace. */
typedef struct rn__col2im_job {
    const rn__conv_geometry *g;
    rn__conv_geometry one;
    const float *dy, *w;
    float *dx, *workspace;
} rn__col2im_job;

static void rn__col2im_job_image(void *context, int n)
{
    const rn__col2im_job *job = (const rn__col2im_job *)context;
    const rn__conv_geometry *g = job->g;
    int taps = g->in_channels * g->kernel * g->kernel, out_plane = g->out_height * g->out_width;
    size_t in_size = (size_t)g->in_channels * g->in_height * g->in_width;
    size_t out_size = (size_t)g->out_channels * out_plane;
    float *columns = job->workspace + (size_t)taps * out_plane * rn__thread_id();
    rn__kernels()->sgemm(1, 0, taps, out_plane, g->out_channels, job->w, taps,
                         job->dy + n * out_size, out_plane, 0.0f, columns, out_plane);
    memset(job->dx + n * in_size, 0, in_size * sizeof(float));
    rn__col2im(&job->one, columns, job->dx + n * in_size);
}

static void rn__conv2d_backward_input_col2im(const rn__conv_geometry *g, const float *dy,
                                             const float *w, float *dx)
{
    int taps = g->in_channels * g->kernel * g->kernel, out_plane = g->out_height * g->out_width;
    size_t out_size = (size_t)g->out_channels * out_plane, columns_size = (size_t)taps * out_plane;
    int threads = rn__team_size(g->batch, 2.0 * g->batch * out_size * taps);
    rn__col2im_job job;
    job.g = g, job.one = rn__one_image(g), job.dy = dy, job.w = w, job.dx = dx;
    job.workspace = (float *)rn__scratch_take(columns_size * threads * sizeof(float));
    if (job.workspace == NULL) {
        rn__kernel_fail();
        return;
    }
    rn__parallel_for(g->batch, threads, rn__col2im_job_image, &job);
    rn__scratch_give(job.workspace, columns_size * threads * sizeof(float));
}

static void rn__conv2d_backward_input_gemm(const rn__conv_geometry *g, const float *dy,
                                           const float *w, float *dx)
{
    rn__conv_geometry turned;
    int area = g->kernel * g->kernel, o, c, t;
    size_t turned_bytes = (size_t)g->out_channels * g->in_channels * area * sizeof(float);
    float *turned_w;
    if (!rn__conv_input_grad_as_forward(g, &turned)) {
        rn__conv2d_backward_input_col2im(g, dy, w, dx);
        return;
    }
    turned_w = (float *)rn__scratch_take(turned_bytes);
    if (turned_w == NULL) {
        rn__kernel_fail();
        return;
    }
    for (o = 0; o < g->out_channels; o++)
        for (c = 0; c < g->in_channels; c++)
            for (t = 0; t < area; t++)
                turned_w[((size_t)c * g->out_channels + o) * area + area - 1 - t] =
                    w[((size_t)o * g->in_channels + c) * area + t];
    rn__conv2d_forward_gemm(&turned, dy, turned_w, NULL, dx);
    rn__scratch_give(turned_w, turned_bytes);
}

/* pack_b for the weight gradient: B is the im2col matrix's transpose
   (positions x taps), and one column of ones after the last tap, whose
   product with dy is the bias gradient. */
static void rn__pack_taps_transposed(const rn__gemm *g, int j0, int width, int p0, int depth,
                                     int lanes, float *out)
{
    int taps = g->n - 1, first, w, d;
    for (first = 0; first < width; first += lanes) {
        float *panel = out + (size_t)first * depth;
        const float *rows[RN__MAX_NR];
        int used = width - first < lanes ? width - first : lanes, real = taps - (j0 + first);
        real = real < 0 ? 0 : real > used ? used : real; /* lanes that are taps */
        for (w = 0; w < real; w++) rows[w] = g->b + g->b_rows[j0 + first + w] + p0;
        rn__interleave(rows, real, depth, lanes, panel);
        /* Then the bias's column of ones, then zeros to the panel's edge. */
        for (w = real; w < lanes; w++)
            for (d = 0; d < depth; d++)
                panel[d * lanes + w] = w < used && j0 + first + w == taps ? 1.0f : 0.0f;
    }
}

/* The weight gradient sums over the batch. To be identical for every
   thread count, the batch is cut into a fixed number of slices (whatever
   the threads), each summed into its own partial gradient, and the
   partials are added in slice order. */
enum { RN__GRAD_SLICES = 8 };

/* partial (out_channels x taps+1) += dy of one group (out_channels x
   positions, zero in the dropped columns) times its im2col matrix's transpose. */
static void rn__conv_group_weight_grad(const rn__conv_geometry *g, const rn__conv_work *work,
                                       int group, const float *x, const float *dy, float *partial)
{
    const rn__conv_layout *layout = &work->layout;
    float *padded = rn__conv_scratch(work), *staged_dy = padded + layout->size;
    int count, first = rn__conv_group(g, work, group, &count);
    rn__gemm gemm;
    rn__conv_pad(g, layout, x + (size_t)first * g->in_channels * g->in_height * g->in_width, count,
                 padded);
    rn__conv_stage(g, layout, count,
                   (float *)dy + (size_t)first * g->out_channels * g->out_height * g->out_width,
                   staged_dy, 0);
    memset(&gemm, 0, sizeof gemm);
    gemm.m = g->out_channels, gemm.n = g->in_channels * g->kernel * g->kernel + 1;
    gemm.k = rn__conv_positions(g, layout, count);
    gemm.a = staged_dy, gemm.a_row = gemm.k, gemm.a_depth = 1;
    gemm.b = padded, gemm.b_rows = work->taps, gemm.pack_b = rn__pack_taps_transposed;
    gemm.c = partial, gemm.ldc = gemm.n;
    rn__gemm_run(&gemm);
}

static void rn__conv_job_weight_grad(void *context, int slice)
{
    const rn__conv_job *job = (const rn__conv_job *)context;
    int group = (int)((long)job->work->groups * slice / job->slices);
    int last = (int)((long)job->work->groups * (slice + 1) / job->slices);
    for (; group < last; group++)
        rn__conv_group_weight_grad(job->g, job->work, group, job->x, job->dy,
                                   job->partials + job->partial_size * slice);
}

static void rn__conv2d_backward_weight_gemm(const rn__conv_geometry *g, const float *x,
                                            const float *dy, float *dw, float *dbias)
{
    int taps = g->in_channels * g->kernel * g->kernel, slice, o, t;
    double flops = 2.0 * g->batch * g->out_channels * g->out_height * g->out_width * taps;
    rn__conv_work work;
    rn__conv_job job;
    int threads = rn__team_size(RN__GRAD_SLICES, flops);
    if (!rn__conv_work_new(&work, g, threads)) {
        rn__kernel_fail();
        return;
    }
    memset(&job, 0, sizeof job);
    job.g = g, job.work = &work, job.x = x, job.dy = dy;
    job.partial_size = (size_t)g->out_channels * (taps + 1);
    job.slices = work.groups < RN__GRAD_SLICES ? work.groups : RN__GRAD_SLICES;
    job.partials = (float *)rn__scratch_take(job.partial_size * job.slices * sizeof(float));
    if (job.partials == NULL) {
        rn__scratch_give(work.taps, work.bytes);
        rn__kernel_fail();
        return;
    }
    memset(job.partials, 0, job.partial_size * job.slices * sizeof(float));
    rn__parallel_for(job.slices, threads, rn__conv_job_weight_grad, &job);
    for (slice = 0; slice < job.slices; slice++) {
        const float *partial = job.partials + job.partial_size * slice;
        for (o = 0; o < g->out_channels; o++) {
            for (t = 0; t < taps; t++)
                dw[(size_t)o * taps + t] += partial[(size_t)o * (taps + 1) + t];
            if (dbias) dbias[o] += partial[(size_t)o * (taps + 1) + taps];
        }
    }
    rn__scratch_give(job.partials, job.partial_size * job.slices * sizeof(float));
    rn__scratch_give(work.taps, work.bytes);
}

#endif /* RN__X86 || RN__NEON */

/* ----- SIMD kernels ----- */

/* The SIMD kernels are written once, over vector operations that each
   instruction set V defines below as V_TYPE (a vector of V_LANES floats),
   V_LOAD, V_STORE, V_SET1, V_ADD, V_MUL, V_MADD(acc, a, b) = acc + a b
   (fused where the set has it), V_SUM of the lanes, and
   V_IF_POSITIVE(x, a, b), lane-wise x > 0 ? a : b, and V_IF_NOT_POSITIVE(x,
   a, b), x <= 0 ? a : b: both comparisons are false for NaN, so ReLU
   written with the second keeps NaN as torch's does.

   The micro-kernel keeps an mr x (2 vectors) tile of C in registers: mr
   broadcasts of A and two loads of B feed 2 mr multiply-adds per step,
   enough independent sums to cover the multiply-add latency. ROWS(X, V)
   expands X(row, V) once per row. */
#define RN__ROWS4(X, V) X(0, V) X(1, V) X(2, V) X(3, V)
#define RN__ROWS6(X, V) RN__ROWS4(X, V) X(4, V) X(5, V)
#define RN__ROWS8(X, V) RN__ROWS6(X, V) X(6, V) X(7, V)

#define RN__MICRO_DECLARE(r, V) V##_TYPE c##r##0 = V##_SET1(0.0f), c##r##1 = c##r##0;
#define RN__MICRO_STEP(r, V)                                                                        \
    {                                                                                               \
        V##_TYPE a_r = V##_SET1(a[r]);                                                              \
        c##r##0 = V##_MADD(c##r##0, a_r, b0);                                                       \
        c##r##1 = V##_MADD(c##r##1, a_r, b1);                                                       \
    }
#define RN__MICRO_STORE(r, V)                                                                       \
    V##_STORE(c + r * ldc, V##_ADD(V##_LOAD(c + r * ldc), c##r##0));                                \
    V##_STORE(c + r * ldc + V##_LANES, V##_ADD(V##_LOAD(c + r * ldc + V##_LANES), c##r##1));

#define RN__MICRO_KERNEL(isa, target, ROWS, mr, V)                                                  \
    static target void rn__micro_##isa(int depth, const float *a, const float *b,                   \
                                       const ptrdiff_t *b_rows, float *c, int ldc)                  \
    {                                                                                               \
        ROWS(RN__MICRO_DECLARE, V)                                                                  \
        for (; depth > 0; depth--, a += mr) {                                                       \
            const float *row = b + *b_rows++;                                                       \
            V##_TYPE b0 = V##_LOAD(row), b1 = V##_LOAD(row + V##_LANES);                            \
            ROWS(RN__MICRO_STEP, V)                                                                 \
        }                                                                                           \
        ROWS(RN__MICRO_STORE, V)                                                                    \
    }

/* The element-wise kernels keep every element's result identical to the
   scalar kernels' (NaN included) and run the tails on them. The slope
   gradient is summed in vectors over blocks of RN__SUM_BLOCK elements,
   then in double. */
enum { RN__SUM_BLOCK = 1024 };

#define RN__ELEMENTWISE_KERNELS(isa, target, V)                                                     \
    static target void rn__relu_forward_##isa(const float *x, float *y, size_t n)                   \
    {                                                                                               \
        V##_TYPE zero = V##_SET1(0.0f);                                                             \
        size_t i;                                                                                   \
        for (i = 0; i + V##_LANES <= n; i += V##_LANES) {                                           \
            V##_TYPE v = V##_LOAD(x + i);                                                           \
            V##_STORE(y + i, V##_IF_NOT_POSITIVE(v, zero, v));                                      \
        }                                                                                           \
        rn__relu_forward_scalar(x + i, y + i, n - i);                                               \
    }                                                                                               \
    static target void rn__relu_backward_##isa(const float *x, const float *dy, float *dx,          \
                                               size_t n)                                            \
    {                                                                                               \
        V##_TYPE zero = V##_SET1(0.0f);                                                             \
        size_t i;                                                                                   \
        for (i = 0; i + V##_LANES <= n; i += V##_LANES)                                             \
            V##_STORE(dx + i, V##_IF_NOT_POSITIVE(V##_LOAD(x + i), zero, V##_LOAD(dy + i)));        \
        rn__relu_backward_scalar(x + i, dy + i, dx + i, n - i);                                     \
    }                                                                                               \
    static target void rn__prelu_forward_##isa(const float *x, float *y, size_t n, float slope)     \
    {                                                                                               \
        V##_TYPE s = V##_SET1(slope);                                                               \
        size_t i;                                                                                   \
        for (i = 0; i + V##_LANES <= n; i += V##_LANES) {                                           \
            V##_TYPE v = V##_LOAD(x + i);                                                           \
            V##_STORE(y + i, V##_IF_POSITIVE(v, v, V##_MUL(s, v)));                                 \
        }                                                                                           \
        rn__prelu_forward_scalar(x + i, y + i, n - i, slope);                                       \
    }                                                                                               \
    static target double rn__prelu_backward_##isa(const float *x, const float *dy, float *dx,       \
                                                  size_t n, float slope)                            \
    {                                                                                               \
        V##_TYPE s = V##_SET1(slope), zero = V##_SET1(0.0f);                                        \
        double dslope = 0.0;                                                                        \
        size_t i = 0;                                                                               \
        while (i + V##_LANES <= n) {                                                                \
            V##_TYPE sum = zero;                                                                    \
            size_t end = n - i > RN__SUM_BLOCK ? i + RN__SUM_BLOCK : n;                             \
            for (; i + V##_LANES <= end; i += V##_LANES) {                                          \
                V##_TYPE v = V##_LOAD(x + i), g = V##_LOAD(dy + i);                                 \
                V##_STORE(dx + i, V##_IF_POSITIVE(v, g, V##_MUL(s, g)));                            \
                sum = V##_ADD(sum, V##_IF_POSITIVE(v, zero, V##_MUL(g, v)));                        \
            }                                                                                       \
            dslope += V##_SUM(sum);                                                                 \
        }                                                                                           \
        return dslope + rn__prelu_backward_scalar(x + i, dy + i, dx + i, n - i, slope);             \
    }                                                                                               \
    static target void rn__affine_backward_##isa(const float *x, const float *dy, float *dx,        \
                                                 size_t n, float a, float b, float k0, float k1,    \
                                                 double *sums)                                      \
    {                                                                                               \
        V##_TYPE va = V##_SET1(a), vb = V##_SET1(b), vk0 = V##_SET1(k0), vk1 = V##_SET1(k1);        \
        double tail[4];                                                                             \
        size_t i = 0;                                                                               \
        sums[0] = sums[1] = sums[2] = sums[3] = 0.0;                                                \
        while (i + V##_LANES <= n) {                                                                \
            V##_TYPE da = V##_SET1(0.0f), db = da, dc = da, dd = da;                                \
            size_t end = n - i > RN__SUM_BLOCK ? i + RN__SUM_BLOCK : n;                             \
            for (; i + V##_LANES <= end; i += V##_LANES) {                                          \
                V##_TYPE f = V##_LOAD(dx + i), g = V##_LOAD(dy + i), du;                            \
                du = V##_MUL(V##_MUL(g, vb), V##_ADD(vk0, V##_MUL(f, V##_SUB(vk1, f))));            \
                da = V##_MADD(da, du, V##_LOAD(x + i));                                             \
                db = V##_MADD(db, g, f);                                                            \
                dc = V##_ADD(dc, du);                                                               \
                dd = V##_ADD(dd, g);                                                                \
                V##_STORE(dx + i, V##_MUL(du, va));                                                 \
            }                                                                                       \
            sums[0] += V##_SUM(da), sums[1] += V##_SUM(db);                                         \
            sums[2] += V##_SUM(dc), sums[3] += V##_SUM(dd);                                         \
        }                                                                                           \
        rn__affine_backward_scalar(x + i, dy + i, dx + i, n - i, a, b, k0, k1, tail);               \
        sums[0] += tail[0], sums[1] += tail[1], sums[2] += tail[2], sums[3] += tail[3];             \
    }

#define RN__ELEMENTWISE_ENTRIES(isa) rn__relu_forward_##isa, rn__relu_backward_##isa,               \
    rn__prelu_forward_##isa, rn__prelu_backward_##isa

/* e^x, tanh and the logistic sigmoid, in vectors: the same range reduction
   and polynomials for every instruction set, each within 2e-7 of the exact
   value relative to it (or 2^-149 absolute where it is subnormal), NaN in
   NaN out, and the limits at infinity. They need, besides the operations
   above, V_SUB, V_DIV, V_ABS, V_COPYSIGN(magnitude, sign), V_MIN(bound, x)
   and V_MAX(bound, x) (both return x when x is NaN) and V_POW2(n), 2^n for
   whole numbers n in [-126, 127].

   e^x = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2 in
   [-ln 2 / 2, ln 2 / 2], ln 2 split in two (Cody and Waite) so that n times
   the first part is exact. e^r = 1 + r + r^2 P(r) with Cephes' expf
   coefficients. x is clamped to [-104, 89], where e^x is 0 or infinite in
   float, and 2^n is applied in two halves so that neither overflows nor
   goes subnormal before the product does. Rounding to a whole number adds
   and subtracts 1.5 * 2^23, which leaves no fraction bits. */
#define RN__EXP_FUNCTION(isa, target, V)                                                            \
    static target V##_TYPE rn__exp_vector_##isa(V##_TYPE x)                                        \
    {                                                                                               \
        V##_TYPE round = V##_SET1(12582912.0f), n, half, r, p;                                      \
        x = V##_MIN(V##_SET1(89.0f), V##_MAX(V##_SET1(-104.0f), x));                                \
        n = V##_SUB(V##_ADD(V##_MUL(x, V##_SET1(1.44269504f)), round), round);                      \
        r = V##_MADD(x, n, V##_SET1(-0.693359375f));                                                \
        r = V##_MADD(r, n, V##_SET1(2.12194440e-4f));                                               \
        p = V##_MADD(V##_SET1(1.3981999507e-3f), r, V##_SET1(1.9875691500e-4f));                    \
        p = V##_MADD(V##_SET1(8.3334519073e-3f), r, p);                                             \
        p = V##_MADD(V##_SET1(4.1665795894e-2f), r, p);                                             \
        p = V##_MADD(V##_SET1(1.6666665459e-1f), r, p);                                             \
        p = V##_MADD(V##_SET1(5.0000001201e-1f), r, p);                                             \
        p = V##_ADD(V##_MADD(r, V##_MUL(r, r), p), V##_SET1(1.0f));                                 \
        half = V##_SUB(V##_ADD(V##_MUL(n, V##_SET1(0.5f)), round), round);                          \
        return V##_MUL(V##_MUL(p, V##_POW2(half)), V##_POW2(V##_SUB(n, half)));                     \
    }

/* tanh x = x + x^3 Q(x^2) for |x| < 0.625, Q a degree-5 fit (Chebyshev
   interpolation of (tanh x / x - 1) / x^2, worked out in long double),
   and 1 - 2 / (e^2|x| + 1) above, where the quotient is small enough
   that its rounding hardly shows; both on |x|, then given x's sign (so
   tanh -0 = -0). The logistic sigmoid is
   1 / (1 + e) for x >= 0 and e / (1 + e) below, e = e^-|x|, so that
   neither side loses bits to cancellation or overflows. */
#define RN__CURVE_FUNCTIONS(isa, target, V)                                                         \
    RN__EXP_FUNCTION(isa, target, V)                                                                \
    static target V##_TYPE rn__tanh_vector_##isa(V##_TYPE x)                                       \
    {                                                                                               \
        V##_TYPE magnitude = V##_ABS(x), one = V##_SET1(1.0f), z = V##_MUL(x, x), q, far;           \
        q = V##_MADD(V##_SET1(-8.343945516e-3f), z, V##_SET1(2.292744816e-3f));                     \
        q = V##_MADD(V##_SET1(2.176891865e-2f), z, q);                                              \
        q = V##_MADD(V##_SET1(-5.395925958e-2f), z, q);                                             \
        q = V##_MADD(V##_SET1(1.333330356e-1f), z, q);                                              \
        q = V##_MADD(V##_SET1(-3.333333317e-1f), z, q);                                             \
        far = V##_ADD(rn__exp_vector_##isa(V##_ADD(magnitude, magnitude)), one);                    \
        far = V##_SUB(one, V##_DIV(V##_SET1(2.0f), far));                                           \
        q = V##_MADD(magnitude, V##_MUL(magnitude, z), q);                                          \
        return V##_COPYSIGN(V##_IF_POSITIVE(V##_SUB(V##_SET1(0.625f), magnitude), q, far), x);      \
    }                                                                                               \
    static target V##_TYPE rn__sigmoid_vector_##isa(V##_TYPE x)                                    \
    {                                                                                               \
        V##_TYPE e = rn__exp_vector_##isa(V##_SUB(V##_SET1(0.0f), V##_ABS(x)));                     \
        V##_TYPE one = V##_SET1(1.0f);                                                              \
        return V##_DIV(V##_IF_POSITIVE(x, one, e), V##_ADD(one, e));                                \
    }

/* Whole arrays: the elements past the last full vector go through one
   zero-padded vector, so every element gets the same arithmetic wherever
   it sits. y may be x. */
#define RN__CURVE_ARRAY(curve, isa, target, V)                                                      \
    static target void rn__##curve##_values_##isa(const float *x, float *y, size_t n)              \
    {                                                                                               \
        float tail[V##_LANES];                                                                      \
        size_t i;                                                                                   \
        for (i = 0; i + V##_LANES <= n; i += V##_LANES)                                             \
            V##_STORE(y + i, rn__##curve##_vector_##isa(V##_LOAD(x + i)));                          \
        if (i == n) return;                                                                         \
        memset(tail, 0, sizeof tail);                                                               \
        memcpy(tail, x + i, (n - i) * sizeof(float));                                               \
        V##_STORE(tail, rn__##curve##_vector_##isa(V##_LOAD(tail)));                                \
        memcpy(y + i, tail, (n - i) * sizeof(float));                                               \
    }

#define RN__CURVE_KERNELS(isa, target, V)                                                           \
    RN__CURVE_FUNCTIONS(isa, target, V)                                                             \
    RN__CURVE_ARRAY(exp, isa, target, V)                                                            \
    RN__CURVE_ARRAY(tanh, isa, target, V)                                                           \
    RN__CURVE_ARRAY(sigmoid, isa, target, V)

#define RN__CURVE_ENTRIES(isa) rn__exp_values_##isa, rn__tanh_values_##isa,                      \
    rn__sigmoid_values_##isa, rn__affine_backward_##isa

#ifdef RN__X86
/* GCC 12's AVX-512 intrinsics pass _mm512_undefined_ps() and its kin, which
   it defines as a self-initialised variable, and compiled as C++ it warns
   about them inside its own header (-Wuninitialized); GCC 13 does not. */
#if defined(__cplusplus) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#define RN__QUIET_GCC12_AVX512 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

/* SSE2 (4 x 8): no fused multiply-add before AVX2. */
static __attribute__((target("sse2"))) __m128 rn__if_positive_sse2(__m128 x, __m128 a, __m128 b)
{
    __m128 positive = _mm_cmpgt_ps(x, _mm_setzero_ps());
    return _mm_or_ps(_mm_and_ps(positive, a), _mm_andnot_ps(positive, b));
}

static __attribute__((target("sse2"))) __m128 rn__if_not_positive_sse2(__m128 x, __m128 a, __m128 b)
{
    __m128 not_positive = _mm_cmple_ps(x, _mm_setzero_ps());
    return _mm_or_ps(_mm_and_ps(not_positive, a), _mm_andnot_ps(not_positive, b));
}

static __attribute__((target("sse2"))) float rn__sum_sse2(__m128 v)
{
    float lanes[4];
    _mm_storeu_ps(lanes, v);
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

#define RN__SSE2_TYPE __m128
#define RN__SSE2_LANES 4
#define RN__SSE2_LOAD(p) _mm_loadu_ps(p)
#define RN__SSE2_STORE(p, v) _mm_storeu_ps(p, v)
#define RN__SSE2_SET1(x) _mm_set1_ps(x)
#define RN__SSE2_ADD(a, b) _mm_add_ps(a, b)
#define RN__SSE2_MUL(a, b) _mm_mul_ps(a, b)
#define RN__SSE2_MADD(acc, a, b) _mm_add_ps(acc, _mm_mul_ps(a, b))
#define RN__SSE2_SUM(v) rn__sum_sse2(v)
#define RN__SSE2_IF_POSITIVE(x, a, b) rn__if_positive_sse2(x, a, b)
#define RN__SSE2_IF_NOT_POSITIVE(x, a, b) rn__if_not_positive_sse2(x, a, b)
#define RN__SSE2_SUB(a, b) _mm_sub_ps(a, b)
#define RN__SSE2_DIV(a, b) _mm_div_ps(a, b)
#define RN__SSE2_MIN(bound, x) _mm_min_ps(bound, x) /* the second operand when either is NaN */
#define RN__SSE2_MAX(bound, x) _mm_max_ps(bound, x)
#define RN__SSE2_ABS(x) _mm_andnot_ps(_mm_set1_ps(-0.0f), x)
#define RN__SSE2_COPYSIGN(m, s)                                                                    \
    _mm_or_ps(_mm_andnot_ps(_mm_set1_ps(-0.0f), m), _mm_and_ps(_mm_set1_ps(-0.0f), s))
#define RN__SSE2_POW2(n)                                                                           \
    _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(_mm_cvttps_epi32(n), _mm_set1_epi32(127)), 23))
RN__MICRO_KERNEL(sse2, __attribute__((target("sse2"))), RN__ROWS4, 4, RN__SSE2)
RN__ELEMENTWISE_KERNELS(sse2, __attribute__((target("sse2"))), RN__SSE2)
RN__CURVE_KERNELS(sse2, __attribute__((target("sse2"))), RN__SSE2)

/* AVX2 with FMA (6 x 16, twelve accumulators: two FMA ports times a
   latency of four, with room to spare). */
static __attribute__((target("avx2,fma"))) __m256 rn__if_positive_avx2(__m256 x, __m256 a, __m256 b)
{
    return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ));
}

static __attribute__((target("avx2,fma"))) __m256 rn__if_not_positive_avx2(__m256 x, __m256 a,
                                                                           __m256 b)
{
    return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LE_OQ));
}

static __attribute__((target("avx2,fma"))) float rn__sum_avx2(__m256 v)
{
    return rn__sum_sse2(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
}

#define RN__AVX2_TYPE __m256
#define RN__AVX2_LANES 8
#define RN__AVX2_LOAD(p) _mm256_loadu_ps(p)
#define RN__AVX2_STORE(p, v) _mm256_storeu_ps(p, v)
#define RN__AVX2_SET1(x) _mm256_set1_ps(x)
#define RN__AVX2_ADD(a, b) _mm256_add_ps(a, b)
#define RN__AVX2_MUL(a, b) _mm256_mul_ps(a, b)
#define RN__AVX2_MADD(acc, a, b) _mm256_fmadd_ps(a, b, acc)
#define RN__AVX2_SUM(v) rn__sum_avx2(v)
#define RN__AVX2_IF_POSITIVE(x, a, b) rn__if_positive_avx2(x, a, b)
#define RN__AVX2_IF_NOT_POSITIVE(x, a, b) rn__if_not_positive_avx2(x, a, b)
#define RN__AVX2_SUB(a, b) _mm256_sub_ps(a, b)
#define RN__AVX2_DIV(a, b) _mm256_div_ps(a, b)
#define RN__AVX2_MIN(bound, x) _mm256_min_ps(bound, x)
#define RN__AVX2_MAX(bound, x) _mm256_max_ps(bound, x)
#define RN__AVX2_ABS(x) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x)
#define RN__AVX2_COPYSIGN(m, s)                                                                    \
    _mm256_or_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), m), _mm256_and_ps(_mm256_set1_ps(-0.0f), s))
#define RN__AVX2_POW2(n)                                                                           \
    _mm256_castsi256_ps(                                                                           \
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23))
RN__MICRO_KERNEL(avx2, __attribute__((target("avx2,fma"))), RN__ROWS6, 6, RN__AVX2)
RN__ELEMENTWISE_KERNELS(avx2, __attribute__((target("avx2,fma"))), RN__AVX2)
RN__CURVE_KERNELS(avx2, __attribute__((target("avx2,fma"))), RN__AVX2)

/* AVX-512 (8 x 32: sixteen of the 32 registers accumulate). */
#define RN__AVX512_TYPE __m512
#define RN__AVX512_LANES 16
#define RN__AVX512_LOAD(p) _mm512_loadu_ps(p)
#define RN__AVX512_STORE(p, v) _mm512_storeu_ps(p, v)
#define RN__AVX512_SET1(x) _mm512_set1_ps(x)
#define RN__AVX512_ADD(a, b) _mm512_add_ps(a, b)
#define RN__AVX512_MUL(a, b) _mm512_mul_ps(a, b)
#define RN__AVX512_MADD(acc, a, b) _mm512_fmadd_ps(a, b, acc)
#define RN__AVX512_SUM(v) _mm512_reduce_add_ps(v)
#define RN__AVX512_IF_POSITIVE(x, a, b)                                                             \
    _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ), b, a)
#define RN__AVX512_IF_NOT_POSITIVE(x, a, b)                                                         \
    _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LE_OQ), b, a)
#define RN__AVX512_SUB(a, b) _mm512_sub_ps(a, b)
#define RN__AVX512_DIV(a, b) _mm512_div_ps(a, b)
/* GCC 12's plain forms of these start from an "undefined" register that
   g++ -Wall reports as uninitialised; the zero-masked forms with every
   lane selected are the same instructions. */
#define RN__AVX512_ALL ((__mmask16)0xffff)
#define RN__AVX512_MIN(bound, x) _mm512_maskz_min_ps(RN__AVX512_ALL, bound, x)
#define RN__AVX512_MAX(bound, x) _mm512_maskz_max_ps(RN__AVX512_ALL, bound, x)
#define RN__AVX512_ABS(x) _mm512_abs_ps(x)
#define RN__AVX512_SIGN_BIT _mm512_castps_si512(_mm512_set1_ps(-0.0f))
/* Bit select, sign bit ? s : m (0xca is the truth table of a ? b : c). */
#define RN__AVX512_COPYSIGN(m, s)                                                                  \
    _mm512_castsi512_ps(_mm512_ternarylogic_epi32(RN__AVX512_SIGN_BIT, _mm512_castps_si512(s),     \
                                                  _mm512_castps_si512(m), 0xca))
#define RN__AVX512_POW2(n)                                                                         \
    _mm512_castsi512_ps(                                                                           \
        _mm512_maskz_slli_epi32(RN__AVX512_ALL,                                                    \
                                _mm512_add_epi32(_mm512_maskz_cvttps_epi32(RN__AVX512_ALL, n),     \
                                                 _mm512_set1_epi32(127)), 23))
RN__MICRO_KERNEL(avx512, __attribute__((target("avx512f"))), RN__ROWS8, 8, RN__AVX512)
RN__ELEMENTWISE_KERNELS(avx512, __attribute__((target("avx512f"))), RN__AVX512)
RN__CURVE_KERNELS(avx512, __attribute__((target("avx512f"))), RN__AVX512)
#ifdef RN__QUIET_GCC12_AVX512
#pragma GCC diagnostic pop
#endif
#endif /* RN__X86 */

#ifdef RN__NEON
/* NEON: 8 x 8 on AArch64 (32 registers), 4 x 8 on 32-bit ARM (16). Parts
   with VFPv4 fuse the multiply-add; older ones (Cortex-A8/A9) round twice. */
#ifdef __aarch64__
#define RN__NEON_MR 8
#define RN__NEON_ROWS RN__ROWS8
#else
#define RN__NEON_MR 4
#define RN__NEON_ROWS RN__ROWS4
#endif

static float rn__sum_neon(float32x4_t v)
{
    float lanes[4];
    vst1q_f32(lanes, v);
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

#define RN__NEON_V_TYPE float32x4_t
#define RN__NEON_V_LANES 4
#define RN__NEON_V_LOAD(p) vld1q_f32(p)
#define RN__NEON_V_STORE(p, v) vst1q_f32(p, v)
#define RN__NEON_V_SET1(x) vdupq_n_f32(x)
#define RN__NEON_V_ADD(a, b) vaddq_f32(a, b)
#define RN__NEON_V_MUL(a, b) vmulq_f32(a, b)
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define RN__NEON_V_MADD(acc, a, b) vfmaq_f32(acc, a, b)
#else
#define RN__NEON_V_MADD(acc, a, b) vmlaq_f32(acc, a, b)
#endif
#define RN__NEON_V_SUM(v) rn__sum_neon(v)
#define RN__NEON_V_IF_POSITIVE(x, a, b) vbslq_f32(vcgtq_f32(x, vdupq_n_f32(0.0f)), a, b)
#define RN__NEON_V_IF_NOT_POSITIVE(x, a, b) vbslq_f32(vcleq_f32(x, vdupq_n_f32(0.0f)), a, b)
#define RN__NEON_V_SUB(a, b) vsubq_f32(a, b)
#define RN__NEON_V_MIN(bound, x) vminq_f32(bound, x) /* NaN when either is */
#define RN__NEON_V_MAX(bound, x) vmaxq_f32(bound, x)
#define RN__NEON_V_ABS(x) vabsq_f32(x)
#define RN__NEON_V_COPYSIGN(m, s) vbslq_f32(vdupq_n_u32(0x80000000u), s, m)
#define RN__NEON_V_POW2(n)                                                                         \
    vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23))
#ifdef __aarch64__
#define RN__NEON_V_DIV(a, b) vdivq_f32(a, b)
#else
/* 32-bit NEON has only a reciprocal estimate: divide lane by lane, which
   rounds correctly. */
static float32x4_t rn__div_neon(float32x4_t a, float32x4_t b)
{
    float top[4], bottom[4];
    int lane;
    vst1q_f32(top, a);
    vst1q_f32(bottom, b);
    for (lane = 0; lane < 4; lane++) top[lane] /= bottom[lane];
    return vld1q_f32(top);
}
#define RN__NEON_V_DIV(a, b) rn__div_neon(a, b)
#endif
RN__MICRO_KERNEL(neon, , RN__NEON_ROWS, RN__NEON_MR, RN__NEON_V)
RN__ELEMENTWISE_KERNELS(neon, , RN__NEON_V)
RN__CURVE_KERNELS(neon, , RN__NEON_V)
#endif /* RN__NEON */

/* ----- CPU features and dispatch ----- */

#define RN__SIMD_ENTRIES rn__sgemm_packed, rn__conv2d_forward_gemm, \
    rn__conv2d_backward_input_gemm, rn__conv2d_backward_weight_gemm

/* Every table this build has, from the plainest to the best. */
static const rn__kernel_table rn__kernel_tables[] = {
    {"scalar", 1, 1, NULL, rn__sgemm_scalar, rn__conv2d_forward_scalar,
     rn__conv2d_backward_input_scalar, rn__conv2d_backward_weight_scalar,
     RN__ELEMENTWISE_ENTRIES(scalar), RN__CURVE_ENTRIES(scalar)},
#ifdef RN__X86
    {"sse2", 4, 8, rn__micro_sse2, RN__SIMD_ENTRIES, RN__ELEMENTWISE_ENTRIES(sse2),
     RN__CURVE_ENTRIES(sse2)},
    {"avx2", 6, 16, rn__micro_avx2, RN__SIMD_ENTRIES, RN__ELEMENTWISE_ENTRIES(avx2),
     RN__CURVE_ENTRIES(avx2)},
    {"avx512", 8, 32, rn__micro_avx512, RN__SIMD_ENTRIES, RN__ELEMENTWISE_ENTRIES(avx512),
     RN__CURVE_ENTRIES(avx512)},
#endif
#ifdef RN__NEON
    {"neon", RN__NEON_MR, 8, rn__micro_neon, RN__SIMD_ENTRIES, RN__ELEMENTWISE_ENTRIES(neon),
     RN__CURVE_ENTRIES(neon)},
#endif
};

enum { RN__TABLE_COUNT = sizeof rn__kernel_tables / sizeof rn__kernel_tables[0] };

#ifdef RN__X86
/* Which register state the OS saves on a context switch (XCR0): a CPU
   with AVX is no use if the OS would lose the upper halves. */
static unsigned rn__xcr0(void)
{
    unsigned low, high;
    __asm__ __volatile__("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    (void)high;
    return low;
}

static int rn__cpu_has(const char *isa)
{
    unsigned eax, ebx, ecx, edx, leaf7[4] = {0, 0, 0, 0}, xcr0 = 0, leaf7_ebx;
    int avx2;
    if (strcmp(isa, "scalar") == 0) return 1;
    if (__get_cpuid_max(0, NULL) < 1) return 0;
    __cpuid(1, eax, ebx, ecx, edx);
    if (strcmp(isa, "sse2") == 0) return (edx >> 26) & 1;
    if (ecx & (1u << 27)) xcr0 = rn__xcr0(); /* OSXSAVE: XGETBV is allowed */
    if (__get_cpuid_max(0, NULL) >= 7) __cpuid_count(7, 0, leaf7[0], leaf7[1], leaf7[2], leaf7[3]);
    leaf7_ebx = leaf7[1];
    /* FMA (ecx 12), AVX (ecx 28), AVX2 (leaf 7 ebx 5); XMM and YMM state. */
    avx2 = (ecx & (1u << 12)) && (ecx & (1u << 28)) && (leaf7_ebx & (1u << 5)) && (xcr0 & 6u) == 6u;
    if (strcmp(isa, "avx2") == 0) return avx2;
    /* AVX-512F (leaf 7 ebx 16); opmask, upper ZMM and ZMM16-31 state. */
    if (strcmp(isa, "avx512") == 0)
        return avx2 && (leaf7_ebx & (1u << 16)) && (xcr0 & 0xe0u) == 0xe0u;
    return 0;
}
#elif defined(RN__NEON) && defined(__arm__) && defined(__linux__)
#include <sys/auxv.h>
static int rn__cpu_has(const char *isa)
{
    /* The kernel reports NEON in AT_HWCAP bit 12 (HWCAP_NEON) on 32-bit ARM. */
    return strcmp(isa, "scalar") == 0 || (getauxval(AT_HWCAP) & (1ul << 12)) != 0;
}
#else
/* Without run-time detection the build's own target decides: every table
   compiled in (scalar; NEON on AArch64, where it is always present). */
static int rn__cpu_has(const char *isa)
{
    (void)isa;
    return 1;
}
#endif

static const rn__kernel_table *rn__chosen_table;

static const rn__kernel_table *rn__best_table(void)
{
    int i = RN__TABLE_COUNT - 1;
    while (i > 0 && !rn__cpu_has(rn__kernel_tables[i].isa)) i--;
    return &rn__kernel_tables[i];
}

RN_API int rn_set_isa(const char *name)
{
    static const char *const known[] = {"scalar", "sse2", "avx2", "avx512", "neon"};
    int i, is_known = 0;
    if (name != NULL && strcmp(name, "auto") == 0) {
        rn__chosen_table = rn__best_table();
        return RN_OK;
    }
    for (i = 0; name != NULL && i < (int)(sizeof known / sizeof known[0]); i++)
        is_known |= strcmp(name, known[i]) == 0;
    if (!is_known)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_set_isa: unknown instruction set '%s' (expected "
                            "scalar, sse2, avx2, avx512, neon or auto)", name ? name : "(null)");
    for (i = 0; i < RN__TABLE_COUNT; i++)
        if (strcmp(name, rn__kernel_tables[i].isa) == 0 && rn__cpu_has(name)) {
            rn__chosen_table = &rn__kernel_tables[i];
            return RN_OK;
        }
    return rn_set_error(RN_ERR_UNSUPPORTED, "rn_set_isa: %s is not available on this CPU or in "
                        "this build (the best here is %s)", name, rn__best_table()->isa);
}

/* The first use reads RELUNET_ISA; a value that cannot be honoured is
   reported once on stderr (there is no caller to return it to) and the
   best available set is used instead. */
static const rn__kernel_table *rn__kernels(void)
{
    if (rn__chosen_table == NULL) {
        const char *forced = getenv("RELUNET_ISA");
        if (forced == NULL || forced[0] == '\0' || rn_set_isa(forced) != RN_OK) {
#ifndef RELUNET_NO_ERROR_STRINGS
            if (forced != NULL && forced[0] != '\0')
                fprintf(stderr, "relunet: RELUNET_ISA ignored: %s\n", rn_last_error());
#endif
            rn__chosen_table = rn__best_table();
        }
    }
    return rn__chosen_table;
}

RN_API const char *rn_isa_name(void) { return rn__kernels()->isa; }

/* ----- element-wise passes over whole tensors ----- */

/* A long run is cut into chunks that threads share out. The chunks depend
   only on n, and the slope gradient adds their sums in chunk order, so no
   result depends on the thread count. */
enum { RN__CHUNK = 1 << 15, RN__MAX_CHUNKS = 64 };

typedef struct rn__elementwise_job {
    const rn__kernel_table *kt;
    rn__elementwise_pass pass;
    const float *x, *dy;
    float *out;
    size_t n, chunk;
    float slope;
    double sums[RN__MAX_CHUNKS]; /* the slope gradient of each chunk */
} rn__elementwise_job;

static void rn__elementwise_chunk(void *context, int i)
{
    rn__elementwise_job *job = (rn__elementwise_job *)context;
    const rn__kernel_table *kt = job->kt;
    const float *x = job->x, *dy = job->dy; /* dy is NULL going forward */
    float *out = job->out, slope = job->slope;
    size_t first = (size_t)i * job->chunk;
    size_t count = job->n - first < job->chunk ? job->n - first : job->chunk;
    job->sums[i] = 0.0;
    switch (job->pass) {
    case RN__RELU_FORWARD: kt->relu_forward(x + first, out + first, count); break;
    case RN__RELU_BACKWARD: kt->relu_backward(x + first, dy + first, out + first, count); break;
    case RN__PRELU_FORWARD: kt->prelu_forward(x + first, out + first, count, slope); break;
    case RN__PRELU_BACKWARD:
        job->sums[i] = kt->prelu_backward(x + first, dy + first, out + first, count, slope);
        break;
    }
}

static double rn__elementwise(rn__elementwise_pass pass, const float *x, const float *dy,
                              float *out, size_t n, float slope)
{
    rn__elementwise_job job;
    size_t chunk = n / RN__MAX_CHUNKS + 1 > (size_t)RN__CHUNK ? n / RN__MAX_CHUNKS + 1 : (size_t)RN__CHUNK;
    int chunks = (int)((n + chunk - 1) / chunk), i;
    double total = 0.0;
    job.kt = rn__kernels(), job.pass = pass;
    job.x = x, job.dy = dy, job.out = out, job.n = n, job.chunk = chunk, job.slope = slope;
    rn__parallel_for(chunks, rn__team_size(chunks, 8.0 * n), rn__elementwise_chunk, &job);
    for (i = 0; i < chunks; i++) total += job.sums[i];
    return total;
}


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
