# Finishes the targets Conan's CMakeDeps declares for gift, with what cpp_info cannot express, so
# that they carry exactly what gift's own CMake targets (cmake/GiftTargets.cmake) carry:
#   gift::gift    cxx_std_20; -fmad=false for CUDA sources; Eigen3::Eigen when the profile
#                 provides Eigen from the system ([platform_requires]), which CMakeDeps skips
#   gift::thrust  the CCCL include directory (Thrust headers, from the CUDA toolkit or the system)
#   gift::cuda    CUDA::cudart, CUDA::cublas, CUDA::curand and gift's nvcc flags
# Included by the generated giftConfig.cmake after the targets exist.

if(TARGET gift::gift)
  # With eigen/3.4.0 from Conan, CMakeDeps has already defined Eigen3::Eigen and linked it; with
  # a platform Eigen, find the system's (its own Eigen3Config.cmake), as gift's build does.
  if(NOT TARGET Eigen3::Eigen)
    find_package(Eigen3 NO_MODULE QUIET)
    if(NOT TARGET Eigen3::Eigen)
      message(FATAL_ERROR "gift::gift needs Eigen 3.4: the profile declares it as a platform "
                          "requirement, but find_package(Eigen3) found none; install Eigen 3.4 "
                          "(Debian: libeigen3-dev), set Eigen3_DIR, or drop [platform_requires] "
                          "to get eigen/3.4.0 from Conan Center")
    endif()
    if(DEFINED Eigen3_VERSION AND Eigen3_VERSION VERSION_LESS 3.4)
      message(FATAL_ERROR "gift needs Eigen 3.4 or newer; found ${Eigen3_VERSION} in ${Eigen3_DIR}")
    endif()
  endif()
  set_property(TARGET gift::gift APPEND PROPERTY INTERFACE_LINK_LIBRARIES Eigen3::Eigen)
  set_property(TARGET gift::gift APPEND PROPERTY INTERFACE_COMPILE_FEATURES cxx_std_20)
  # Reproducibility on the device: no contracted FMAs, as -ffp-contract=off on the host.
  set_property(TARGET gift::gift APPEND PROPERTY INTERFACE_COMPILE_OPTIONS
               $<$<COMPILE_LANGUAGE:CUDA>:-fmad=false>)
endif()

if(TARGET gift::cuda)
  find_package(CUDAToolkit QUIET)
  if(NOT CUDAToolkit_FOUND)
    message(FATAL_ERROR "gift::cuda (option gift/*:with_cuda=True) needs the CUDA toolkit, and "
                        "find_package(CUDAToolkit) found none: install it or set CUDAToolkit_ROOT, "
                        "or build with gift/*:with_cuda=False")
  endif()
  set_property(TARGET gift::cuda APPEND PROPERTY INTERFACE_LINK_LIBRARIES
               CUDA::cudart CUDA::cublas CUDA::curand)
  # CMake 3.25 knows no cuda_std_20: pass the flag for the CUDA language only.
  set_property(TARGET gift::cuda APPEND PROPERTY INTERFACE_COMPILE_OPTIONS
               $<$<COMPILE_LANGUAGE:CUDA>:-std=c++20> $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr>
               $<$<COMPILE_LANGUAGE:CUDA>:--extended-lambda> $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-fopenmp>)
endif()

if(TARGET gift::thrust)
  # Header-only use of CCCL: its own CMake package would define THRUST_DEVICE_SYSTEM for CUDA,
  # so locate the headers directly, as gift's build does.
  if(NOT CUDAToolkit_INCLUDE_DIRS)
    find_package(CUDAToolkit QUIET)
  endif()
  find_path(GIFT_CCCL_INCLUDE_DIR thrust/version.h
            HINTS ${CUDAToolkit_INCLUDE_DIRS}/cccl ${CUDAToolkit_INCLUDE_DIRS}
                  /usr/local/cuda/include/cccl /usr/local/cuda/include
            PATHS /usr/include)
  if(NOT GIFT_CCCL_INCLUDE_DIR)
    message(FATAL_ERROR "gift::thrust (option gift/*:with_thrust=True) needs the CCCL (Thrust) "
                        "headers, and thrust/version.h was not found: install the CUDA toolkit or "
                        "Debian's libthrust-dev, or set GIFT_CCCL_INCLUDE_DIR")
  endif()
  # SYSTEM: warnings inside Thrust are not the consumer's to fix.
  set_property(TARGET gift::thrust APPEND PROPERTY INTERFACE_SYSTEM_INCLUDE_DIRECTORIES ${GIFT_CCCL_INCLUDE_DIR})
  set_property(TARGET gift::thrust APPEND PROPERTY INTERFACE_INCLUDE_DIRECTORIES ${GIFT_CCCL_INCLUDE_DIR})
endif()
