// A string usable as a template argument: names of leaves and layers live in types.
#pragma once
#include <algorithm>
#include <boost/hana/string.hpp>
#include <cstddef>
#include <string_view>
#include <utility>

namespace kiln::dsl {

template <std::size_t N> struct fixed_string {
    char data[N]{};

    constexpr fixed_string() = default;
    constexpr fixed_string(const char (&text)[N]) { std::copy_n(text, N, data); }

    constexpr std::string_view view() const { return {data, N - 1}; }
    constexpr std::size_t size() const { return N - 1; }
};

template <fixed_string A, fixed_string B> constexpr auto concat() {
    fixed_string<A.size() + B.size() + 1> joined;
    std::copy_n(A.data, A.size(), joined.data);
    std::copy_n(B.data, B.size() + 1, joined.data + A.size());
    return joined;
}

namespace detail {
template <fixed_string S, std::size_t... I> constexpr auto to_hana_string(std::index_sequence<I...>) {
    return boost::hana::string_c<S.data[I]...>;
}
}  // namespace detail

// `name<"fc1.weight">` is the key of that parameter's gradient in grad(loss).
template <fixed_string S> inline constexpr auto name = detail::to_hana_string<S>(std::make_index_sequence<S.size()>{});

}  // namespace kiln::dsl
