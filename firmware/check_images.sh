#!/bin/sh
# check_images.sh ELF... - what make firmware-size's images must not link.
# For each image: the count of the library's error messages ("rn_...: ") in
# its flash, which must be 0 in a build named *no-error-strings* (with
# RELUNET_NO_ERROR_STRINGS, rn_set_error drops its message where it is
# called); and no random initialisation (rn_layer_init), which networks
# whose parameters are bound from flash never use.
set -eu
status=0
for elf in "$@"; do
    name=$(basename "$elf" .elf)
    image="${elf%.elf}.flash"
    arm-none-eabi-objcopy -O binary -j .text -j .data "$elf" "$image"
    count=$(strings "$image" | grep -c '^rn_[a-z0-9_]*: ' || true)
    echo "$name: $count error messages in flash"
    case "$name" in
    *no-error-strings*)
        if [ "$count" -ne 0 ]; then
            strings "$image" | grep '^rn_[a-z0-9_]*: ' | head -5
            status=1
        fi ;;
    esac
    if arm-none-eabi-nm "$elf" | grep -q ' rn_layer_init$'; then
        echo "$name: links rn_layer_init (random initialisation and its libm)"
        status=1
    fi
done
exit $status
