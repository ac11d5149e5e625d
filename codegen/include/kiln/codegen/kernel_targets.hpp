// The targets generated code is compiled for: one Halide target, or several, comma-separated and
// best first — a multi-target library whose function runs the first variant the CPU has the
// features for (Halide checks once and keeps its choice), the last one otherwise. Used by the model
// generator's stages and by the build tools (the optimizer kernels, the FMA-peak kernel).
#pragma once
#include <Halide.h>

#include <algorithm>
#include <functional>
#include <kiln/contract/cpu_targets.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "kiln/codegen/schedule_plan.hpp"

namespace kiln::codegen {

// Each target of `list` without the Halide runtime (a binary links one: kiln_halide_runtime).
inline std::vector<Halide::Target> no_runtime_targets(const std::string& list) {
    std::vector<Halide::Target> targets;
    for (const std::string& target : cpu::target_list(list))
        targets.push_back(Halide::Target(target).with_feature(Halide::Target::NoRuntime));
    if (targets.empty()) throw std::invalid_argument("no Halide target in '" + list + "'");
    return targets;
}

// The vector registers a target's code has for float32: what register tiles are sized to.
inline RegisterFile register_file(const Halide::Target& target) {
    const int lanes = std::max(1, target.natural_vector_size<float>());
    return {lanes, target.has_feature(Halide::Target::AVX512) ? 32 : 16};
}

// Writes <prefix>.a and <prefix>.h defining `function`; `module` lowers the code for one target.
inline void compile_library(const std::string& prefix, const std::string& function,
                            const std::vector<Halide::Target>& targets,
                            const std::function<Halide::Module(const std::string&, const Halide::Target&)>& module) {
    const std::map<Halide::OutputFileType, std::string> outputs{{Halide::OutputFileType::static_library, prefix + ".a"},
                                                                {Halide::OutputFileType::c_header, prefix + ".h"}};
    if (targets.size() == 1) module(function, targets[0]).compile(outputs);
    else Halide::compile_multitarget(function, outputs, targets, {}, module);
}

// The same for a Func: the function named `function`, whatever the Func is called.
inline void compile_library(Halide::Func func, const std::string& prefix, const std::string& function,
                            const std::vector<Halide::Argument>& arguments, const std::vector<Halide::Target>& targets) {
    compile_library(prefix, function, targets, [&](const std::string& name, const Halide::Target& target) {
        return func.compile_to_module(arguments, name, target);
    });
}

}  // namespace kiln::codegen
