// Helpers for the contract's tables: look a row up by name, list the names, split a row's
// space-separated list. Header-only, standard library only.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::contract {

// The row of `table` whose `name` is `name`, or nullptr.
template <class Row, std::size_t N> constexpr const Row* find_row(const Row (&table)[N], std::string_view name) {
    for (const Row& row : table)
        if (row.name == name) return &row;
    return nullptr;
}

// Every row's name, in table order ("sgd, momentum, …" in error messages and help).
template <class Row, std::size_t N> std::vector<std::string> row_names(const Row (&table)[N]) {
    std::vector<std::string> names;
    for (const Row& row : table) names.emplace_back(row.name);
    return names;
}

// The words of a space-separated list ("exp_avg exp_avg_sq" → {"exp_avg", "exp_avg_sq"}).
inline std::vector<std::string_view> words(std::string_view list) {
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (at < list.size()) {
        const std::size_t end = std::min(list.find(' ', at), list.size());
        if (end > at) out.push_back(list.substr(at, end - at));
        at = end + 1;
    }
    return out;
}

}  // namespace kiln::contract
