# relunet-config.cmake - find_package(relunet) after `make install` or
# `cmake --install`: defines the INTERFACE target relunet::relunet. This file
# lives in <prefix>/share/cmake/relunet, the headers in <prefix>/include.
get_filename_component(_relunet_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET relunet::relunet)
    include("${CMAKE_CURRENT_LIST_DIR}/relunet-deps.cmake")
    add_library(relunet::relunet INTERFACE IMPORTED)
    target_include_directories(relunet::relunet INTERFACE "${_relunet_prefix}/include")
    relunet_add_dependencies(relunet::relunet)
endif()
unset(_relunet_prefix)
