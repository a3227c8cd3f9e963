# example_main_job reads .gz files through gift/io/gzip.hpp, which needs zlib.
find_package(ZLIB REQUIRED)
target_link_libraries(example_${name} PRIVATE ZLIB::ZLIB)
