// Learning-rate schedules, as a function of the optimizer step (and the epoch it falls in).
// Epoch-based schedules (step, exponential) change at epoch boundaries, as PyTorch's do when
// stepped once per epoch; cosine ones move every step; cyclic ones count steps.
#pragma once
#include <string>
#include <vector>

namespace kiln {

struct LrSchedule {
    std::string kind = "constant";  // see lr_schedule_names()
    double lr = 1e-3;               // the base rate (cyclic: the lower bound)
    double min_lr = 0;              // cosine, cosine_restarts: the floor
    double max_lr = 0;              // triangular, triangular2: the upper bound
    double gamma = 0.1;             // step: factor every step_epochs; exponential: factor per epoch
    double step_epochs = 10;        // step
    double period_epochs = 10;      // cosine: epochs to reach min_lr; cosine_restarts: first period T0
    double period_multiplier = 1;   // cosine_restarts: T_{i+1} = T_i · multiplier
    long cycle_steps = 2000;        // triangular*: steps from the lower to the upper bound (half a cycle)
    long warmup_steps = 0;          // linear warm-up from lr/warmup_steps, multiplying any schedule
};

const std::vector<std::string>& lr_schedule_names();
// Throws kiln::Error naming the flag for a schedule that cannot work (unknown kind, max ≤ base, …).
void validate(const LrSchedule& schedule);
double learning_rate(const LrSchedule& schedule, long step, long steps_per_epoch);

}  // namespace kiln
