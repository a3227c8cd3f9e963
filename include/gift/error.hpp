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

/// Throws for the first non-finite element of `m` (any matrix with `rows()`, `cols()` and
/// `m(r, c)` readable on the host), naming `where`, `argument` and the element. For callers that
/// already know one exists (a reduction saw a NaN): the scan runs only on bad input.
template <class Matrix>
[[noreturn]] void throw_first_non_finite(const Matrix& m, const char* where, const char* argument) {
  for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(m.rows()); ++r)
    for (std::ptrdiff_t c = 0; c < static_cast<std::ptrdiff_t>(m.cols()); ++c)
      require_finite(m(r, c), where, argument, static_cast<std::size_t>(r), static_cast<std::size_t>(c));
  throw error(concat(where, ": argument '", argument, "' holds a non-finite value"));
}

/// Throws unless every element of `m` is finite, naming the first bad one.
template <class Matrix>
void require_all_finite(const Matrix& m, const char* where, const char* argument) {
  for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(m.rows()); ++r)
    for (std::ptrdiff_t c = 0; c < static_cast<std::ptrdiff_t>(m.cols()); ++c)
      if (!std::isfinite(static_cast<double>(m(r, c)))) throw_first_non_finite(m, where, argument);
}

}  // namespace detail
}  // namespace gift
