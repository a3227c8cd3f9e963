#pragma once
/// \file gift/error.hpp
/// \brief `gift::error` and the argument checks every public function uses (`gift::require`,
/// `gift::concat`, `gift::require_all_finite`), public so that research code and front ends
/// check their own arguments the same way.
///
/// A check failure names the argument, what was expected and what came, e.g.
/// `gift::column_norms: argument 'weights' must be finite, but element (3, 7) is nan`.

#include <cmath>
#include <concepts>
#include <cstddef>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace gift {

/// The one exception type gift throws for bad input and failed I/O.
class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A value `std::ostream << value` accepts: what `concat` and `require` build messages from.
template <class T>
concept streamable = requires(std::ostream& out, const T& value) { out << value; };

/// Streams all arguments into one string (`gift::concat("step ", 3, " of ", 10)` is "step 3 of 10").
template <streamable... Parts>
[[nodiscard]] std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

/// Throws `gift::error` built from `parts` unless `condition` holds: the one argument check of
/// gift, for research code and front ends as for the library itself. The parts are streamed only
/// on failure, so a check costs a branch when it passes:
/// \code
/// gift::require(rank >= 1, "my_adapter: argument 'rank' must be at least 1, but it is ", rank);
/// \endcode
template <streamable... Parts>
void require(bool condition, const Parts&... parts) {
  if (!condition) throw error(concat(parts...));
}

/// Throws unless `value` is finite; `where` says which function and argument, `row` and `col`
/// which element, so the message points at the first bad value.
template <class T>
  requires std::is_arithmetic_v<T>
void require_finite(T value, const char* where, const char* argument, std::size_t row, std::size_t col) {
  if (!std::isfinite(static_cast<double>(value))) {
    throw error(concat(where, ": argument '", argument, "' must be finite, but element (", row, ", ",
                       col, ") is ", static_cast<double>(value),
                       "; check the input for overflow or uninitialised memory"));
  }
}

/// A matrix whose elements can be read on the host as `m(r, c)`, with `rows()` and `cols()`.
template <class M>
concept host_readable_matrix = requires(const M& m, std::ptrdiff_t r) {
  { m.rows() } -> std::convertible_to<std::ptrdiff_t>;
  { m.cols() } -> std::convertible_to<std::ptrdiff_t>;
  static_cast<double>(m(r, r));
};

/// Throws for the first non-finite element of `m`, naming `where`, `argument` and the element.
/// For callers that already know one exists (a reduction saw a NaN): the scan runs only on bad
/// input.
template <host_readable_matrix Matrix>
[[noreturn]] void throw_first_non_finite(const Matrix& m, const char* where, const char* argument) {
  for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(m.rows()); ++r)
    for (std::ptrdiff_t c = 0; c < static_cast<std::ptrdiff_t>(m.cols()); ++c)
      require_finite(static_cast<double>(m(r, c)), where, argument, static_cast<std::size_t>(r),
                     static_cast<std::size_t>(c));
  throw error(concat(where, ": argument '", argument, "' holds a non-finite value"));
}

/// Throws unless every element of `m` is finite, naming the first bad one.
template <host_readable_matrix Matrix>
void require_all_finite(const Matrix& m, const char* where, const char* argument) {
  for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(m.rows()); ++r)
    for (std::ptrdiff_t c = 0; c < static_cast<std::ptrdiff_t>(m.cols()); ++c)
      if (!std::isfinite(static_cast<double>(m(r, c)))) throw_first_non_finite(m, where, argument);
}

namespace detail {
// The library's own code says detail::require; it is the public function.
using gift::concat;
using gift::require;
using gift::require_all_finite;
using gift::require_finite;
using gift::throw_first_non_finite;
}  // namespace detail
}  // namespace gift
