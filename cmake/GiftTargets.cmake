# gift's INTERFACE targets. Header-only: every target carries include paths, definitions and
# dependencies, nothing is compiled here.
include(GNUInstallDirs)

add_library(gift INTERFACE)
add_library(gift::gift ALIAS gift)
target_include_directories(gift INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(gift INTERFACE cxx_std_20)
target_link_libraries(gift INTERFACE Eigen3::Eigen)
if(TARGET OpenMP::OpenMP_CXX)
  target_link_libraries(gift INTERFACE OpenMP::OpenMP_CXX)
endif()
# Reproducibility: every backend must round each operation once, in the same order; an FMA
# contracted by the compiler on one backend and not another would change noise and norms.
target_compile_options(gift INTERFACE
  $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang,AppleClang>:-ffp-contract=off>
  $<$<COMPILE_LANGUAGE:CUDA>:-fmad=false>)

# gift::thrust — Thrust on the host OMP system (and the CPP system, always available beside it).
# THRUST_DEVICE_SYSTEM must be set before any Thrust header when a non-CUDA compiler runs, and a
# binary must never mix two device systems, so the definition lives on the target.
if(GIFT_THRUST_FOUND)
  add_library(gift_thrust INTERFACE)
  add_library(gift::thrust ALIAS gift_thrust)
  set_target_properties(gift_thrust PROPERTIES EXPORT_NAME thrust)
  target_link_libraries(gift_thrust INTERFACE gift OpenMP::OpenMP_CXX)
  target_include_directories(gift_thrust SYSTEM INTERFACE $<BUILD_INTERFACE:${GIFT_CCCL_INCLUDE_DIR}>)
  target_compile_definitions(gift_thrust INTERFACE
    THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP GIFT_HAS_THRUST=1)
endif()

# gift::cuda — nvcc + CCCL Thrust on CUDA + cuBLAS/cuRAND.
if(GIFT_ENABLE_CUDA)
  find_package(CUDAToolkit REQUIRED)
  add_library(gift_cuda INTERFACE)
  add_library(gift::cuda ALIAS gift_cuda)
  set_target_properties(gift_cuda PROPERTIES EXPORT_NAME cuda)
  target_link_libraries(gift_cuda INTERFACE gift CUDA::cudart CUDA::cublas CUDA::curand)
  target_compile_definitions(gift_cuda INTERFACE GIFT_HAS_CUDA=1)
  # CMake 3.25 knows no cuda_std_20: pass the flag for the CUDA language only.
  target_compile_options(gift_cuda INTERFACE
    $<$<COMPILE_LANGUAGE:CUDA>:-std=c++20 --expt-relaxed-constexpr --extended-lambda -Xcompiler=-fopenmp>)
endif()

# gift::mpi — the MPI communicator (gift/distributed/mpi.hpp) for data-parallel runs. Optional:
# without MPI the library and the tool work as one process.
if(GIFT_ENABLE_MPI)
  find_package(MPI COMPONENTS CXX)
  if(MPI_CXX_FOUND)
    add_library(gift_mpi INTERFACE)
    add_library(gift::mpi ALIAS gift_mpi)
    set_target_properties(gift_mpi PROPERTIES EXPORT_NAME mpi)
    target_link_libraries(gift_mpi INTERFACE gift MPI::MPI_CXX)
    target_compile_definitions(gift_mpi INTERFACE GIFT_HAS_MPI=1)
    # Open MPI's launcher needs --oversubscribe to start more ranks than cores (the tests do).
    set(GIFT_MPIEXEC_OVERSUBSCRIBE "")
    execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE gift_mpiexec_version ERROR_QUIET)
    if(gift_mpiexec_version MATCHES "Open MPI|OpenRTE")
      set(GIFT_MPIEXEC_OVERSUBSCRIBE --oversubscribe)
    endif()
  endif()
endif()

# gift::nccl — device buffers combined over NCCL (gift/distributed/nccl.cuh), beside gift::cuda.
# NCCL ships with the CUDA toolkit install here (nccl.h, libnccl); elsewhere set GIFT_NCCL_ROOT.
if(GIFT_ENABLE_CUDA)
  find_path(GIFT_NCCL_INCLUDE_DIR nccl.h
            HINTS ${GIFT_NCCL_ROOT}/include ${CUDAToolkit_INCLUDE_DIRS} ${CUDAToolkit_LIBRARY_ROOT}/include)
  find_library(GIFT_NCCL_LIBRARY nccl
               HINTS ${GIFT_NCCL_ROOT}/lib ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}/lib
                     ${CUDAToolkit_LIBRARY_ROOT}/lib64)
  if(GIFT_NCCL_INCLUDE_DIR AND GIFT_NCCL_LIBRARY)
    add_library(gift_nccl INTERFACE)
    add_library(gift::nccl ALIAS gift_nccl)
    target_link_libraries(gift_nccl INTERFACE gift_cuda ${GIFT_NCCL_LIBRARY})
    target_include_directories(gift_nccl SYSTEM INTERFACE ${GIFT_NCCL_INCLUDE_DIR})
    target_compile_definitions(gift_nccl INTERFACE GIFT_HAS_NCCL=1)
  endif()
endif()
