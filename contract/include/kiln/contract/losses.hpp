// The losses the runtime knows (losses.def) and what follows from each: whether it classifies,
// how many classes a prediction has, the loss expected at initialization. A network whose loss is
// none of these (a custom expression) trains, but reports no accuracy.
#pragma once
#include <cmath>
#include <string_view>

namespace kiln {

enum class LossTask { multiclass, binary, regression, custom };

enum class LossKind {
#define KILN_LOSS(name, task) name,
#include "kiln/contract/losses.def"
#undef KILN_LOSS
    custom,  // any other scalar expression
};

struct LossRow {
    LossKind kind;
    std::string_view name;
    LossTask task;
};

inline constexpr LossRow loss_table[] = {
#define KILN_LOSS(name, task) {LossKind::name, #name, LossTask::task},
#include "kiln/contract/losses.def"
#undef KILN_LOSS
    {LossKind::custom, "custom", LossTask::custom},
};

constexpr const LossRow& loss_row(LossKind kind) { return loss_table[int(kind)]; }
constexpr std::string_view loss_name(LossKind kind) { return loss_row(kind).name; }
constexpr bool is_classifier(LossKind kind) {
    return loss_row(kind).task == LossTask::multiclass || loss_row(kind).task == LossTask::binary;
}
// Classes a prediction distinguishes: its columns (multiclass), 2 for one logit (binary), 0 otherwise.
constexpr int class_count(LossKind kind, int prediction_columns) {
    switch (loss_row(kind).task) {
        case LossTask::multiclass: return prediction_columns;
        case LossTask::binary: return 2;
        default: return 0;
    }
}
// The loss of a network that predicts uniformly at initialization (ln C), or NaN where no such
// expectation exists (regression, custom): the babysitting check of the first loss.
inline double expected_initial_loss(LossKind kind, int prediction_columns) {
    const int classes = class_count(kind, prediction_columns);
    return classes > 0 ? std::log(double(classes)) : NAN;
}

}  // namespace kiln
