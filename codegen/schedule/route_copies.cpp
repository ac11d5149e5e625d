// Copies of a max-pool route for the loops that read it (schedule.hpp, copy_routes_into). A route
// (lower/pool.cpp: the pooled gradient sent back to each window's first maximum, usually under a
// ReLU's mask) can be recomputed from what its readers load anyway; stored, it is an image at the
// unpooled size, written once and read back by each reader. Each reader gets a copy of the route
// with its own copy of the window helper, computed a plane at a time in the reader's loops; the
// Funcs computed inline on the way from the reader to the route are copied too (fresh_copy),
// since Halide replaces only a Func's direct calls.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen::schedule {

using namespace Halide;

namespace {
using Function = Internal::Function;

// The Funcs f's definitions call directly, in the order first called.
std::vector<Function> direct_callees(const Function& f) {
    struct Finder : Internal::IRVisitor {
        std::set<std::string> seen;
        std::vector<Function> found;
        using Internal::IRVisitor::visit;
        void visit(const Internal::Call* call) override {
            Internal::IRVisitor::visit(call);
            if (call->call_type == Internal::Call::Halide && call->func.defined() && seen.insert(call->name).second)
                found.emplace_back(call->func);
        }
    } finder;
    finder.seen.insert(f.name());  // an update reads its own Func
    for (const Expr& value : f.definition().values()) value.accept(&finder);
    for (const Internal::Definition& update : f.updates()) {
        for (const Expr& value : update.values()) value.accept(&finder);
        for (const Expr& arg : update.args()) arg.accept(&finder);
    }
    return finder.found;
}

bool inline_formula(const Function& f) { return computed_inline(f) && !f.has_update_definition(); }

// A copy of `original` (a route, or a Func computed inline on the way to one) with a definition
// of its own and no schedule: Func::clone_in would copy the stored route's (a root Func's
// parallel row blocks, nested in the reader's loops), and it keeps each clone in the original's
// schedule, where a second reader's clone_in then fails (Halide 14 deep-copies the first clone's
// entry without the clone). The callers' direct calls call the copy instead. `row`, if defined,
// is what the copy reads in place of its own row variable `row_name`.
Func fresh_copy(const Function& original, const std::vector<Func>& callers, const std::string& row_name = "",
                const Expr& row = Expr()) {
    Func copy(Internal::unique_name(plan_key(Func(original)) + "_copy"));
    std::vector<Expr> values = original.values();
    if (row.defined())
        for (Expr& value : values) value = Internal::substitute(row_name, row, value);
    copy.function().define(original.args(), values);
    for (Func caller : callers) caller.function().substitute_calls(original, copy.function());
    return copy;
}

// Copies, for the copies of `sources` (copy_of: a source's name → the Func its copy is; a source
// may be its own copy), of every Func `is_target` accepts that the sources reach through Funcs
// computed inline, and of those inline Funcs (fresh_copy; a target's reads its rows at
// `target_row`, if defined, in place of its variable `row_name`). Returns the targets' copies, in
// the order reached.
std::vector<std::pair<Function, Func>> copy_paths(const std::vector<Function>& sources,
                                                  std::map<std::string, Func> copy_of,
                                                  const std::function<bool(const Function&)>& is_target,
                                                  const std::string& row_name = "", const Expr& target_row = Expr()) {
    std::map<std::string, Function> funcs;
    std::map<std::string, std::vector<std::string>> calls;  // caller → its callees on a path to a target
    std::map<std::string, bool> on_path;
    std::vector<std::string> postorder;
    std::function<bool(const Function&)> visit = [&](const Function& f) -> bool {
        if (auto known = on_path.find(f.name()); known != on_path.end()) return known->second;
        on_path[f.name()] = false;
        funcs.emplace(f.name(), f);
        bool found = false;
        for (const Function& callee : direct_callees(f)) {
            bool path = false;
            if (is_target(callee)) {
                if (!on_path.count(callee.name())) {
                    funcs.emplace(callee.name(), callee);
                    on_path[callee.name()] = true;
                    postorder.push_back(callee.name());
                }
                path = true;
            } else if (inline_formula(callee)) {
                path = visit(callee);
            }
            if (path) calls[f.name()].push_back(callee.name());
            found |= path;
        }
        on_path[f.name()] = found;
        if (found) postorder.push_back(f.name());
        return found;
    };
    std::set<std::string> source_names;
    for (const Function& source : sources) {
        source_names.insert(source.name());
        visit(source);
    }
    // Callers before callees (reverse postorder): each Func is copied once, for all its copied
    // callers at once, so a Func that two paths reach has one copy.
    std::vector<std::pair<Function, Func>> targets;
    for (auto name = postorder.rbegin(); name != postorder.rend(); ++name) {
        if (source_names.count(*name)) continue;
        std::vector<Func> callers;
        for (const auto& [caller, callees] : calls)
            if (std::find(callees.begin(), callees.end(), *name) != callees.end())
                callers.push_back(copy_of.at(caller));
        const Function& original = funcs.at(*name);
        Func copy =
            is_target(original) ? fresh_copy(original, callers, row_name, target_row) : fresh_copy(original, callers);
        copy_of.emplace(*name, copy);
        if (is_target(original)) targets.emplace_back(original, copy);
    }
    return targets;
}

}  // namespace

std::vector<Func> copy_routes_into(const std::vector<Func>& readers, const std::set<std::string>& routes,
                                   const LoweringContext& context, int lanes) {
    std::vector<Function> sources;
    std::map<std::string, Func> copy_of;
    for (const Func& reader : readers) {
        sources.push_back(reader.function());
        copy_of.emplace(reader.name(), reader);
    }
    auto chosen = [&](const Function& f) { return routes.count(f.name()) > 0; };
    auto is_helper = [](const Function& f) { return is_window_helper(f.name()); };
    std::vector<Func> copies;
    // Each copy reads the route's rows clamped to the batch. A reader's loops over a block of
    // images past the batch's end never run (their split guards them), but Halide 14's bounds
    // inference for a Func computed inside them assumes they do, and would ask the stage's input
    // buffers for images past the batch.
    const std::string& row = context.row.name();
    const Expr last = context.batch - 1;
    for (const auto& [route, copy] : copy_paths(sources, copy_of, chosen, row, clamp(context.row, 0, last))) {
        // A plane's rows as the stored route's were (elementwise): vectors along the row, rows in
        // unrolled pairs, the window helpers' copies computed with each pair, vectors along the
        // pooled row (the width its lowering declared). (Stored once for all copies instead, the
        // helpers' own pass cost more than their copies: bench/README.md.)
        plane_by_row_pairs(copy, context, declared_width(route, context.x.name()), lanes);
        for (const auto& [helper, helper_copy] : copy_paths({route}, {{route.name(), copy}}, is_helper)) {
            Func(helper_copy).compute_at(copy, Var("y_pair"));
            row_vectors(helper_copy, context, declared_width(helper, context.x.name()), lanes);
        }
        copies.push_back(copy);
    }
    return copies;
}

}  // namespace kiln::codegen::schedule
