# Finds gift's dependencies. Shared by the build tree and by giftConfig.cmake (installed), so a
# consumer resolves them exactly as we do.

# Eigen: find_package(Eigen3 3.4) rejects Eigen 5 and a version range rejects 3.4.0, so ask
# without a version and check it ourselves.
if(NOT TARGET Eigen3::Eigen)
  find_package(Eigen3 REQUIRED NO_MODULE)
endif()
if(DEFINED Eigen3_VERSION AND Eigen3_VERSION VERSION_LESS 3.4)
  message(FATAL_ERROR "gift needs Eigen 3.4 or newer; found ${Eigen3_VERSION}")
endif()

# Thrust on the host systems: CCCL headers (as shipped with the CUDA toolkit) plus OpenMP.
find_package(OpenMP COMPONENTS CXX)
set(GIFT_THRUST_FOUND OFF)
if(NOT DEFINED GIFT_ENABLE_THRUST OR GIFT_ENABLE_THRUST)
  # Header-only use of CCCL: its CMake package would define THRUST_DEVICE_SYSTEM for CUDA,
  # so locate the headers directly (the CUDA toolkit ships them under include/cccl).
  find_path(GIFT_CCCL_INCLUDE_DIR thrust/version.h
            HINTS ${CUDAToolkit_INCLUDE_DIRS}/cccl /usr/local/cuda/include/cccl /usr/local/cuda/include
            PATHS /usr/include)
  if(GIFT_CCCL_INCLUDE_DIR AND TARGET OpenMP::OpenMP_CXX)
    set(GIFT_THRUST_FOUND ON)
  endif()
endif()
