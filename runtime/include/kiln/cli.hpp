// The model binary's command line: train | eval | predict | grad | summary (CLI11, --help).
#pragma once
#include "kiln/model_descriptor.hpp"

namespace kiln {

int run_cli(const ModelDescriptor& model, int argc, char** argv);

}  // namespace kiln
