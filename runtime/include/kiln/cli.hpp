// The model binary's command line: train, lr-find, search, gradcheck, eval, ensemble, report, bench, predict, grad,
// summary (CLI11, --help).
#pragma once
#include <kiln/contract/model_descriptor.hpp>

namespace kiln {

int run_cli(const ModelDescriptor& model, int argc, char** argv);

}  // namespace kiln
