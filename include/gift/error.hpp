#pragma once
/// \file gift/error.hpp
/// \brief `gift::error` and the argument checks every public function uses.
///
/// A check failure names the argument, what was expected and what came, e.g.
/// `gift::column_norms: argument 'weights' must be finite, but element (3, 7) is nan`.

#include <cmath>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace gift {

/// The one exception type gift throws for bad input and failed I/O.
class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {

/// Streams all arguments into one string.
template <class... Parts>
[[nodiscard]] std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

/// Throws `gift::error` built from `parts` unless `condition` holds.
template <class... Parts>
void require(bool condition, Parts&&... parts) {
  if (!condition) throw error(concat(std::forward<Parts>(parts)...));
}

/// Throws unless `value` is finite; `where` says which function and argument, `index` which
/// element, so the message points at the first bad value.
template <class T>
void require_finite(T value, const char* where, const char* argument, std::size_t row, std::size_t col) {
  if (!std::isfinite(static_cast<double>(value))) {
    throw error(concat(where, ": argument '", argument, "' must be finite, but element (", row, ", ",
                       col, ") is ", static_cast<double>(value),
                       "; check the input for overflow or uninitialised memory"));
  }
}

}  // namespace detail
}  // namespace gift
