#!/bin/sh
# test_boards.sh DIR - make test-firmware: board_classify and
# board_classify_int8 on QEMU's MPS2 boards, with the networks
# export_relu_alpha wrote into DIR and with deliberately broken copies.
#
# Each board runs nine programs, each under a timeout:
#   good            the ReLU_alpha network must classify every reference
#                   image with the desktop's logits bit for bit (exit 0);
#   bn_prelu        so must conv + batch norm + PReLU, its batch norms folded;
#   bad_crc         one weight changed: the builder must refuse it (RN_ERR_FORMAT);
#   bad_shape       the last layer one unit narrower than its arrays: refused too;
#   *_int8          the same four with the int8 exports (rn_qnet_export_c):
#                   outputs exactly the desktop's, damaged ones refused by
#                   rn_qnet_check;
#   kernels         the board-only int8 kernels (the DSP dot product) against
#                   the scalar loop (board_kernels.c).
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

# The broken models: a header with one weight changed (its values no longer
# match the checksum), and one whose linear layer has 9 outputs while its
# arrays hold 10 (the shapes no longer match the arrays). In float 2 is
# added to a weight; in int8 its lowest bit flips (staying an int8).
break_model() { # kind model.h broken.h
    case $1 in
    bad_crc) sed '/_conv1_weight\[/{n;s/^    /    2.0f + /}' "$2" > "$3" ;;
    bad_shape) sed 's/rn_net_add_linear(net, 10)/rn_net_add_linear(net, 9)/' "$2" > "$3" ;;
    bad_crc_int8) sed '/_qconv1_weights\[/{n;s/^    /    1 ^ /}' "$2" > "$3" ;;
    bad_shape_int8) sed '/RN_LAYER_LINEAR/s/1, {10, 0, 0}/1, {9, 0, 0}/' "$2" > "$3" ;;
    esac
    if cmp -s "$2" "$3"; then
        echo "test_boards: the $1 header is not broken (did the export format change?)" >&2
        exit 1
    fi
}
for model in bad_crc bad_shape bad_crc_int8 bad_shape_int8; do
    mkdir -p "$dir/$model"
    case $model in
    *_int8) name=relu_alpha_int8 ;;
    *) name=relu_alpha ;;
    esac
    cp "$dir/${name}_reference.h" "$dir/$model/"
    break_model $model "$dir/${name}_model.h" "$dir/$model/${name}_model.h"
done

failed=0
for board in mps2-an385 mps2-an386 mps2-an500; do
    for model in good bn_prelu bad_crc bad_shape good_int8 bn_prelu_int8 bad_crc_int8 bad_shape_int8 \
        kernels; do
        include=$dir name=relu_alpha program=board_classify headers=BOARD_
        case $model in
        bn_prelu*) name=bn_prelu ;;
        esac
        case $model in
        bad_*) include=$dir/$model ;;
        esac
        case $model in
        *_int8) name=${name}_int8 program=board_classify_int8 headers=BOARD_Q ;;
        kernels) program=board_kernels ;;
        esac
        elf=$dir/$board-$model.elf
        # shellcheck disable=SC2046 # the CPU flags are meant to split
        arm-none-eabi-gcc -std=c99 $(cpu_flags "$board") -mthumb -Os -ffp-contract=off \
            -Wall -Wextra -Werror -ffunction-sections -fdata-sections -Wl,--gc-sections \
            --specs=nano.specs --specs=rdimon.specs -nostartfiles -T firmware/mps2.ld \
            -DMPS2_ICOUNT_SHIFT=$icount_shift -I. -Ifirmware -I"$include" \
            -D${headers}MODEL_HEADER="\"${name}_model.h\"" -D${headers}REFERENCE_HEADER="\"${name}_reference.h\"" \
            firmware/$program.c firmware/mps2_board.c -o "$elf" -lm
        status=0
        timeout $seconds qemu-system-arm -M "$board" -nographic -monitor none -serial none \
            -semihosting -icount shift=$icount_shift -kernel "$elf" > "$elf.log" 2>&1 || status=$?
        sed "s/^/$board $model: /" "$elf.log"
        case "$model:$status" in
        good*:0 | bn_prelu*:0 | kernels:0 | bad_*:$rn_err_format) echo "$board $model: ok (exit status $status)" ;;
        *:124) echo "$board $model: FAILED, no exit after $seconds s"; failed=1 ;;
        *) echo "$board $model: FAILED (exit status $status)"; failed=1 ;;
        esac
    done
done
exit $failed
