#pragma once
/// \file gift/backend/dispatch.hpp
/// \brief How an operation finds its implementation along a backend's fallback chain.
///
/// An operation is a tag type (e.g. `ops::column_norms<l2>`). A backend implements it by
/// specialising `implementation<Op, Backend>` with `static constexpr bool available = true` and a
/// static `run(...)`; backend headers under `gift/backend/<name>/` do that. `dispatch<Op>(tag,
/// args...)` walks the chain `tag, tag::fallback, ...` and calls the first implementation found.
/// When none is found the program does not compile, and the message says what to include.

#include <gift/concepts.hpp>
#include <gift/backend/tags.hpp>

#include <type_traits>
#include <utility>

namespace gift::backend {

/// Primary template: "this backend does not implement this operation". Specialise it to provide
/// one.
template <class Op, class Backend>
struct implementation {
  /// False: no implementation here; dispatch tries the fallback.
  static constexpr bool available = false;
};

/// True when `Backend` itself (not a fallback) implements `Op`.
template <class Op, class Backend>
concept implements = implementation<Op, Backend>::available;

/// Always false, but only known at instantiation: for static_asserts in templates.
template <class>
inline constexpr bool dependent_false = false;

namespace detail {
template <class Op, class Backend, bool Implemented = implements<Op, Backend>>
struct resolve {
  using type = Backend;
};
// Only walked when Backend lacks Op, so `none` is reached only when the whole chain lacks it.
template <class Op, class Backend>
struct resolve<Op, Backend, false> {
  using type = typename resolve<Op, typename Backend::fallback>::type;
};
template <class Op>
struct resolve<Op, none, false> {
  // Reached only when no backend in the chain implements Op.
  static_assert(dependent_false<Op>,
                "gift: no backend in the fallback chain implements this operation. Include the "
                "backend header for it (<gift/backend/thrust.hpp> for Thrust containers, "
                "<gift/backend/cuda.cuh> for CUDA) and link the matching CMake target "
                "(gift::thrust or gift::cuda); the operation and backend are named in the "
                "instantiation below.");
  using type = none;
};
}  // namespace detail

/// The backend that will run `Op` when `Backend` is asked: `Backend` or the first fallback that
/// implements it.
template <class Op, backend_tag Backend>
using resolved_t = typename detail::resolve<Op, Backend>::type;

/// Runs `Op` on the first backend of `Backend`'s chain that implements it.
template <class Op, backend_tag Backend, class... Args>
decltype(auto) dispatch(Backend, Args&&... args) {
  using chosen = resolved_t<Op, Backend>;
  if constexpr (std::is_same_v<chosen, none>) {
    return;  // the static_assert in resolve has already fired
  } else {
    return implementation<Op, chosen>::run(chosen{}, std::forward<Args>(args)...);
  }
}

}  // namespace gift::backend
