// Parameter initializers as plain data (initializers.def): the DSL names them, the model
// descriptor carries them, the runtime draws the numbers.
#pragma once
#include <string_view>

namespace kiln {

enum class InitKind {
#define KILN_INITIALIZER(name, arguments, draws) name,
#include "kiln/contract/initializers.def"
#undef KILN_INITIALIZER
};

struct InitKindRow {
    InitKind kind;
    std::string_view name, arguments, draws;  // arguments: what Initializer::a and ::b mean for it
};

inline constexpr InitKindRow init_kind_table[] = {
#define KILN_INITIALIZER(name, arguments, draws) {InitKind::name, #name, arguments, draws},
#include "kiln/contract/initializers.def"
#undef KILN_INITIALIZER
};

constexpr std::string_view init_kind_name(InitKind kind) { return init_kind_table[int(kind)].name; }

struct Initializer {
    InitKind kind = InitKind::zeros;
    double a = 0;  // constant: value; uniform: low; normal: mean; orthogonal: gain; sparse: nonzeros per unit
    double b = 0;  // uniform: high; normal, sparse: standard deviation
    constexpr bool operator==(const Initializer&) const = default;
};

}  // namespace kiln
