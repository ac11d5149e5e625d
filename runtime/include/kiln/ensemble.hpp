// Model ensembles (the seed notes' cheap accuracy boost): several checkpoints of one model —
// independent runs, or snapshots of one run at its cyclic-LR minima — combined by averaging
// their predicted probabilities or by majority vote.
#pragma once
#include <string>
#include <vector>

#include "kiln/data/dataset.hpp"
#include "kiln/model.hpp"

namespace kiln {

enum class EnsembleMode { average, vote };

struct EnsembleResult {
    double accuracy = 0;
    double loss = 0;  // negative log-likelihood of the averaged probabilities (both modes)
    std::vector<double> member_accuracy;
};

// Class probabilities of one prediction row: softmax of logits, or σ of a single logit (2 classes).
std::vector<double> class_probabilities(const ModelDescriptor& model, const float* prediction);

// Evaluates checkpoints of `model` (each with its own standardization) on `test` (raw features).
// Classification models only. Majority-vote ties go to the class with the higher mean probability.
EnsembleResult evaluate_ensemble(const ModelDescriptor& model, const std::vector<std::string>& checkpoints,
                                 const Dataset& test, EnsembleMode mode);

}  // namespace kiln
