# relunet-deps.cmake - what a program that includes relunet needs beside the
# headers: libm where it is a separate library, and stb_image's headers for
# relunet_data.h (Debian: libstb-dev, in /usr/include/stb). Used by
# CMakeLists.txt and by the installed relunet-config.cmake alike.
function(relunet_add_dependencies target)
    find_library(RELUNET_MATH_LIBRARY m)
    if(RELUNET_MATH_LIBRARY)
        target_link_libraries(${target} INTERFACE ${RELUNET_MATH_LIBRARY})
    endif()
    find_path(RELUNET_STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb)
    if(RELUNET_STB_INCLUDE_DIR)
        target_include_directories(${target} INTERFACE ${RELUNET_STB_INCLUDE_DIR})
    endif()
endfunction()
