// The stages every model compiles to (stages.def): an enum, and a table of names, modes and
// purposes in build and call order.
#pragma once
#include <string_view>

namespace kiln {

enum class StageMode { training, inference };

enum class StageKind {
#define KILN_STAGE(name, mode, purpose) name,
#include "kiln/contract/stages.def"
#undef KILN_STAGE
};

struct StageRow {
    StageKind kind;
    std::string_view name;
    StageMode mode;  // training: dropout on, batch statistics; inference: running statistics
    std::string_view purpose;
};

inline constexpr StageRow stage_table[] = {
#define KILN_STAGE(name, mode, purpose) {StageKind::name, #name, StageMode::mode, purpose},
#include "kiln/contract/stages.def"
#undef KILN_STAGE
};
inline constexpr int stage_count = int(sizeof stage_table / sizeof stage_table[0]);

constexpr const StageRow& stage_row(StageKind kind) { return stage_table[int(kind)]; }
constexpr std::string_view stage_name(StageKind kind) { return stage_row(kind).name; }

}  // namespace kiln
