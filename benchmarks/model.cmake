# bench_model: the LLaMA forward/training benchmark. Built for the host CPU unless GIFT_NATIVE_ARCH
# is off (or GIFT_TARGET_ARCH names a level): the figures are about this machine's throughput.
include(${CMAKE_CURRENT_LIST_DIR}/../cmake/GiftTargetArch.cmake)
gift_target_arch(bench_model)
