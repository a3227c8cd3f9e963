// A program that consumes gift added with add_subdirectory() through gift::gift.
#include "consumer_checks.hpp"

#ifndef GIFT_CONSUMER_CMAKE_VERSION
#error "the consumer's CMakeLists.txt passes gift_VERSION as GIFT_CONSUMER_CMAKE_VERSION"
#endif

int main() {
  const int failures = consumer::check_version(GIFT_CONSUMER_CMAKE_VERSION) + consumer::check_eigen_backend();
  std::printf("%s\n", failures == 0 ? "gift::gift consumer: OK" : "gift::gift consumer: FAILED");
  return failures == 0 ? 0 : 1;
}
