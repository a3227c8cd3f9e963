# bench_distributed: MPI ranks where gift::mpi exists (one rank otherwise), built for the host CPU
# like bench_model: the figures are about this machine.
if(TARGET gift::mpi)
  target_link_libraries(bench_distributed PRIVATE gift::mpi)
endif()
include(${CMAKE_CURRENT_LIST_DIR}/../cmake/GiftTargetArch.cmake)
gift_target_arch(bench_distributed)
