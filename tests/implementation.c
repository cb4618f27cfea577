/* The library, compiled once for the tests that link it (see the Makefile):
   each of them would otherwise compile all of relunet.h and relunet_data.h
   again. */
#define RELUNET_IMPLEMENTATION
#include "relunet_data.h"
