#!/bin/sh
# message_strings.sh ELF... - counts the library's error messages ("rn_...: ")
# in each firmware image's flash, and fails if a build named
# *no-error-strings* still holds one (make firmware-size): with
# RELUNET_NO_ERROR_STRINGS, rn_set_error drops its message where it is
# called, so none should be left.
set -eu
status=0
for elf in "$@"; do
    image="${elf%.elf}.flash"
    arm-none-eabi-objcopy -O binary -j .text -j .data "$elf" "$image"
    count=$(strings "$image" | grep -c '^rn_[a-z0-9_]*: ' || true)
    echo "$(basename "$elf" .elf): $count error messages in flash"
    case "$elf" in
    *no-error-strings*)
        if [ "$count" -ne 0 ]; then
            strings "$image" | grep '^rn_[a-z0-9_]*: ' | head -5
            status=1
        fi ;;
    esac
done
exit $status
