#pragma once
/// \file gift/type_list.hpp
/// \brief A compile-time list of types, for sweeps over policies (metrics, bit-widths, backends).

#include <cstddef>
#include <type_traits>
#include <utility>

namespace gift {

/// A list of types; carries no data. `type_list<gift_sw, owq>` is how a sweep names its policies.
template <class... Ts>
struct type_list {
  /// Number of types in the list.
  static constexpr std::size_t size = sizeof...(Ts);
};

namespace detail {
template <class List, class F>
struct for_each_type_impl;
template <class... Ts, class F>
struct for_each_type_impl<type_list<Ts...>, F> {
  static constexpr void run(F& f) { (f.template operator()<Ts>(), ...); }
};

template <class A, class B>
struct concat_lists;
template <class... As, class... Bs>
struct concat_lists<type_list<As...>, type_list<Bs...>> {
  using type = type_list<As..., Bs...>;
};

template <class T>
struct is_type_list : std::false_type {};
template <class... Ts>
struct is_type_list<type_list<Ts...>> : std::true_type {};
}  // namespace detail

/// True for instantiations of `gift::type_list`.
template <class T>
concept type_list_like = detail::is_type_list<T>::value;

/// Calls `f.template operator()<T>()` for every `T` of `List`, in order. With a generic lambda:
/// `for_each_type<type_list<l1, l2>>([]<class Norm>() { ... });`
template <type_list_like List, class F>
constexpr void for_each_type(F&& f) {
  detail::for_each_type_impl<List, std::remove_reference_t<F>>::run(f);
}

/// The concatenation of two type lists.
template <type_list_like A, type_list_like B>
using concat_t = typename detail::concat_lists<A, B>::type;

/// True when `T` is one of the types of `List`.
template <class T, type_list_like List>
inline constexpr bool contains_v = false;
/// \cond INTERNAL
template <class T, class... Ts>
inline constexpr bool contains_v<T, type_list<Ts...>> = (std::is_same_v<T, Ts> || ...);
/// \endcond

}  // namespace gift
