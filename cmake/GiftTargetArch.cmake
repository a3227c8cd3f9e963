# Instruction-set selection for the targets whose speed is about the machine they run on (the
# `gift` tool and the model benchmark). Everything else -- the library's tests, the sanitizer
# build, consumers -- is compiled for the compiler's default target and never depends on the host.
#
#   GIFT_NATIVE_ARCH=ON (default)  -march=native: Eigen's GEMMs use every instruction set of the
#                                  build machine (AVX2/FMA, AVX-512 where present). The binary then
#                                  runs only on machines with the same instruction set.
#   GIFT_TARGET_ARCH=<level>       an explicit -march (x86-64-v3 = AVX2/FMA, x86-64-v4 = AVX-512)
#                                  instead of native; CI uses it to compile both levels on any host.
#
# GCC 12 only: with AVX-512 enabled, Eigen's 16x16 ptranspose (inlined into gemm_pack_lhs) trips
# -Wmaybe-uninitialized inside avx512fintrin.h, because _mm512_undefined_ps() is modelled as an
# uninitialised read (GCC bug 105593, fixed in GCC 13). That is a false positive in a system
# header that -isystem cannot silence (middle-end warnings are issued after inlining), so the one
# warning is switched off for these targets alone, on that compiler alone. The same headers are
# compiled without it in every test target, so gift's own code keeps the check as an error.

include(CheckCXXCompilerFlag)
include(CheckCXXSourceCompiles)

option(GIFT_NATIVE_ARCH "Compile the gift tool and the model benchmark with -march=native" ON)
set(GIFT_TARGET_ARCH "" CACHE STRING
    "Explicit -march for the gift tool and the model benchmark (e.g. x86-64-v3, x86-64-v4); overrides GIFT_NATIVE_ARCH")

if(GIFT_TARGET_ARCH)
  set(_gift_march "-march=${GIFT_TARGET_ARCH}")
elseif(GIFT_NATIVE_ARCH)
  set(_gift_march "-march=native")
else()
  set(_gift_march "")
endif()

set(GIFT_TARGET_ARCH_FLAGS "")
if(_gift_march)
  string(MAKE_C_IDENTIFIER "GIFT_HAS${_gift_march}" _gift_flag_var)
  check_cxx_compiler_flag(${_gift_march} ${_gift_flag_var})
  if(${_gift_flag_var})
    list(APPEND GIFT_TARGET_ARCH_FLAGS ${_gift_march})
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      # Ask the compiler whether this -march enables AVX-512 (for native: whether the host has it).
      set(CMAKE_REQUIRED_FLAGS ${_gift_march})
      string(MAKE_C_IDENTIFIER "GIFT_AVX512${_gift_march}" _gift_avx512_var)
      check_cxx_source_compiles("#ifndef __AVX512F__\n#error no AVX-512\n#endif\nint main() {}"
                                ${_gift_avx512_var})
      unset(CMAKE_REQUIRED_FLAGS)
      if(${_gift_avx512_var})
        list(APPEND GIFT_TARGET_ARCH_FLAGS -Wno-maybe-uninitialized)
      endif()
    endif()
  elseif(GIFT_TARGET_ARCH)
    message(FATAL_ERROR "GIFT_TARGET_ARCH=${GIFT_TARGET_ARCH}: the compiler rejects ${_gift_march}; "
                        "use a level it knows (x86-64-v2, x86-64-v3, x86-64-v4) or leave it empty")
  endif()
endif()

# gift_target_arch(<target>): compile <target> for the selected instruction set (see above).
function(gift_target_arch target)
  if(GIFT_TARGET_ARCH_FLAGS)
    target_compile_options(${target} PRIVATE ${GIFT_TARGET_ARCH_FLAGS})
  endif()
endfunction()
