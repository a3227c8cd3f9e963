// A Boost.Test check of an error message, shared by the test areas (fixtures.hpp stays free of
// Boost so that benchmarks can use it).
#pragma once

#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <string>

namespace gift_test {

/// Fails the current test case unless `action` throws a gift::error whose message contains
/// `fragment` (the message, or "<no exception>", is printed when it does not).
template <class F>
void expect_error(F&& action, const std::string& fragment) {
  const std::string what = message_of(action);
  BOOST_TEST(what.find(fragment) != std::string::npos, "'" << what << "' lacks '" << fragment << "'");
}

}  // namespace gift_test
