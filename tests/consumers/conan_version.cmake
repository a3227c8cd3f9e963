# The Conan recipe reads the same version as CMake: `conan inspect` on gift's source tree must
# report the version CMake read from include/gift/version.hpp.
# Run by CTest: cmake -DCONAN=<conan> -DSOURCE_DIR=<gift> -DEXPECTED=<x.y.z> -P conan_version.cmake
execute_process(COMMAND "${CONAN}" inspect "${SOURCE_DIR}" --format=json
                OUTPUT_VARIABLE json ERROR_VARIABLE errors RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "conan inspect ${SOURCE_DIR} failed (${result}):\n${errors}")
endif()
string(JSON version GET "${json}" version)
string(JSON package_type GET "${json}" package_type)
if(NOT version STREQUAL EXPECTED)
  message(FATAL_ERROR "conanfile.py says version ${version}, CMake read ${EXPECTED} from version.hpp")
endif()
if(NOT package_type STREQUAL "header-library")
  message(FATAL_ERROR "conanfile.py package_type is '${package_type}', expected header-library")
endif()
message(STATUS "conanfile.py: gift ${version}, ${package_type}")
