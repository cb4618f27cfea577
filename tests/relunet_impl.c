/* relunet_impl.c - the implementation of relunet.h and relunet_data.h alone,
   for programs that link it (test_cxx compiles this file as C and as C++). */
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "relunet_data.h"
