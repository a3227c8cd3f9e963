# bench_packed_linear: packed 4-bit model vs its dense fp32 form. Built for the host CPU like
# bench_model: the figures are about this machine's throughput.
include(${CMAKE_CURRENT_LIST_DIR}/../cmake/GiftTargetArch.cmake)
gift_target_arch(bench_packed_linear)
