#!/bin/sh
# size_table.sh ELF... - the flash and RAM of firmware builds of the ReLU_alpha
# network (make firmware-size), as the Markdown table README.md shows: one
# column per ELF, named by the ELF's file name. The weights are the float
# parameters, or the int8 weights with their int32 biases and multipliers.
set -eu
figure() { # elf row
    arm-none-eabi-size "$1" | awk 'NR == 2 { text = $1; data = $2; bss = $3 }
        END { if (row == "flash") print text + data; else print data + bss }' row="$2"
}
symbols() { # elf which
    arm-none-eabi-nm -S -t d "$1" | awk -v which="$2" '
        which == "arena" && ($4 == "arena_memory" || $4 ~ /^relu_alpha_buffer[01]$/) { total += $2 }
        which == "weights" && $4 ~ /^relu_alpha_.*_(weight|bias|alpha)$/ { total += $2 }
        which == "weights" && $4 ~ /^relu_alpha_q.*_(weights|bias|requant|slope_requant)$/ { total += $2 }
        END { print total + 0 }'
}
row() { # label function argument
    printf '| %s |' "$1"
    for elf in $elfs; do printf ' %s |' "$($2 "$elf" "$3")"; done
    printf '\n'
}
elfs="$*"
printf '| bytes |'
for elf in $elfs; do printf ' %s |' "$(basename "$elf" .elf)"; done
printf '\n| --- |'
for elf in $elfs; do printf ' ---: |'; done
printf '\n'
row "flash (text + data)" figure flash
row "of which the weights" symbols weights
row "RAM (data + bss)" figure ram
row "of which the arena (float) or the two int8 buffers" symbols arena
