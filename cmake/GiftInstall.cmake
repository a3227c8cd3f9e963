# Install and export: headers, the gift::gift / gift::thrust / gift::cuda targets, and a
# relocatable giftConfig.cmake that finds the same dependencies we did.
#
# Each target has its own export set (giftTargets, giftThrustTargets, giftCudaTargets), so the
# installed config can define gift::thrust and gift::cuda only where the consumer's machine has
# what they need: a target that exists is a target that works, and `TARGET gift::thrust` is an
# honest test for consumers.
#
# Everything is in the install component `gift`, so `cmake --install <build> --component gift`
# installs the package alone, whatever other programs of this build may install.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(GIFT_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/gift CACHE STRING
    "Where gift's CMake package files are installed, relative to the install prefix")

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/gift DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT gift)

install(TARGETS gift EXPORT giftTargets COMPONENT gift)
install(EXPORT giftTargets NAMESPACE gift:: DESTINATION ${GIFT_CMAKE_INSTALL_DIR} COMPONENT gift)

# What the config must re-create in the consumer's configure; configure_package_config_file
# substitutes these.
set(GIFT_EXPORTS_THRUST OFF)
set(GIFT_EXPORTS_CUDA OFF)
get_target_property(gift_interface_links gift INTERFACE_LINK_LIBRARIES)
if("OpenMP::OpenMP_CXX" IN_LIST gift_interface_links)
  set(GIFT_EXPORTS_OPENMP ON)
else()
  set(GIFT_EXPORTS_OPENMP OFF)
endif()
if(TARGET gift_thrust)
  set(GIFT_EXPORTS_THRUST ON)
  install(TARGETS gift_thrust EXPORT giftThrustTargets COMPONENT gift)
  install(EXPORT giftThrustTargets NAMESPACE gift:: DESTINATION ${GIFT_CMAKE_INSTALL_DIR}
          COMPONENT gift)
endif()
if(TARGET gift_cuda)
  set(GIFT_EXPORTS_CUDA ON)
  install(TARGETS gift_cuda EXPORT giftCudaTargets COMPONENT gift)
  install(EXPORT giftCudaTargets NAMESPACE gift:: DESTINATION ${GIFT_CMAKE_INSTALL_DIR}
          COMPONENT gift)
endif()

set(GIFT_EXPORTS_MPI OFF)
if(TARGET gift_mpi)
  set(GIFT_EXPORTS_MPI ON)
  install(TARGETS gift_mpi EXPORT giftMpiTargets COMPONENT gift)
  install(EXPORT giftMpiTargets NAMESPACE gift:: DESTINATION ${GIFT_CMAKE_INSTALL_DIR}
          COMPONENT gift)
endif()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/giftConfig.cmake.in
  ${PROJECT_BINARY_DIR}/giftConfig.cmake INSTALL_DESTINATION ${GIFT_CMAKE_INSTALL_DIR})
# Header-only and architecture-independent. 0.x releases may break the API at every minor
# version, so only the same major.minor satisfies a request.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/giftConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/giftConfig.cmake ${PROJECT_BINARY_DIR}/giftConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/GiftDependencies.cmake
        DESTINATION ${GIFT_CMAKE_INSTALL_DIR} COMPONENT gift)
