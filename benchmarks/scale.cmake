# bench_scale: the 7B-shaped stages. Built for the host CPU like bench_model: its figures are this
# machine's throughput (Eigen's GEMMs with every instruction set the machine has).
include(${CMAKE_CURRENT_LIST_DIR}/../cmake/GiftTargetArch.cmake)
gift_target_arch(bench_scale)
