# Install and export: headers, the gift::gift / gift::thrust / gift::cuda targets, and a
# relocatable giftConfig.cmake that finds the same dependencies we did.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(GIFT_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/gift)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/gift DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(gift_export_targets gift)
if(TARGET gift_thrust)
  list(APPEND gift_export_targets gift_thrust)
endif()
if(TARGET gift_cuda)
  list(APPEND gift_export_targets gift_cuda)
endif()
install(TARGETS ${gift_export_targets} EXPORT giftTargets)
install(EXPORT giftTargets NAMESPACE gift:: DESTINATION ${GIFT_CMAKE_INSTALL_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/giftConfig.cmake.in
  ${PROJECT_BINARY_DIR}/giftConfig.cmake INSTALL_DESTINATION ${GIFT_CMAKE_INSTALL_DIR})
# Header-only and architecture-independent: any compatible 0.x minor version satisfies.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/giftConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/giftConfig.cmake ${PROJECT_BINARY_DIR}/giftConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/GiftDependencies.cmake
        DESTINATION ${GIFT_CMAKE_INSTALL_DIR})
