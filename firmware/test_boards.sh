#!/bin/sh
# test_boards.sh DIR - make test-firmware: board_classify on QEMU's MPS2
# boards, with the ReLU_alpha network that export_relu_alpha wrote into DIR
# and with two deliberately broken copies of it.
#
# Each board runs three programs, each under a timeout:
#   good       must classify every reference image with the desktop's logits
#              bit for bit (exit status 0);
#   bad_crc    one weight changed: the builder must refuse it (RN_ERR_FORMAT);
#   bad_shape  the last layer one unit narrower than its arrays: refused too.
set -eu
dir=$1
icount_shift=6 # 64 ns per instruction; firmware/mps2_board.h explains the count
seconds=60
rn_err_format=5

cpu_flags() {
    case "$1" in
    mps2-an385) echo "-mcpu=cortex-m3 -mfloat-abi=soft" ;;
    mps2-an386) echo "-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16" ;;
    mps2-an500) echo "-mcpu=cortex-m7 -mfloat-abi=hard -mfpu=fpv5-d16" ;;
    esac
}

# The broken models: a header with 2 added to the first weight (its values
# no longer match the checksum), and one whose linear layer has 9 outputs
# while its arrays hold 10 (the shapes no longer match the arrays).
for model in bad_crc bad_shape; do
    mkdir -p "$dir/$model"
    cp "$dir/relu_alpha_reference.h" "$dir/$model/"
done
sed '/_conv1_weight\[/{n;s/^    /    2.0f + /}' "$dir/relu_alpha_model.h" > "$dir/bad_crc/relu_alpha_model.h"
sed 's/rn_net_add_linear(net, 10)/rn_net_add_linear(net, 9)/' "$dir/relu_alpha_model.h" \
    > "$dir/bad_shape/relu_alpha_model.h"
for model in bad_crc bad_shape; do
    if cmp -s "$dir/relu_alpha_model.h" "$dir/$model/relu_alpha_model.h"; then
        echo "test_boards: the $model header is not broken (did the export format change?)" >&2
        exit 1
    fi
done

failed=0
for board in mps2-an385 mps2-an386 mps2-an500; do
    for model in good bad_crc bad_shape; do
        include=$dir
        [ "$model" = good ] || include=$dir/$model
        elf=$dir/$board-$model.elf
        # shellcheck disable=SC2046 # the CPU flags are meant to split
        arm-none-eabi-gcc -std=c99 $(cpu_flags "$board") -mthumb -Os -ffp-contract=off \
            -Wall -Wextra -Werror -ffunction-sections -fdata-sections -Wl,--gc-sections \
            --specs=nano.specs --specs=rdimon.specs -nostartfiles -T firmware/mps2.ld \
            -DMPS2_ICOUNT_SHIFT=$icount_shift -I. -Ifirmware -I"$include" \
            firmware/board_classify.c firmware/mps2_board.c -o "$elf" -lm
        status=0
        timeout $seconds qemu-system-arm -M "$board" -nographic -monitor none -serial none \
            -semihosting -icount shift=$icount_shift -kernel "$elf" > "$elf.log" 2>&1 || status=$?
        sed "s/^/$board $model: /" "$elf.log"
        case "$model:$status" in
        good:0 | bad_*:$rn_err_format) echo "$board $model: ok (exit status $status)" ;;
        *:124) echo "$board $model: FAILED, no exit after $seconds s"; failed=1 ;;
        *) echo "$board $model: FAILED (exit status $status)"; failed=1 ;;
        esac
    done
done
exit $failed
