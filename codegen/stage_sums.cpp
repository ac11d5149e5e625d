// The stage's passes over sums of images (apply_plan, stage.cpp): which sums run in one pass over
// the batch, per-channel sums merged into one Func of a Tuple, and which max-pool routes are
// recomputed in their readers' loops instead of stored.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "kiln/codegen/schedule.hpp"
#include "kiln/codegen/stage.hpp"

namespace kiln::codegen {

using namespace Halide;

// Stored reductions that may run in one pass over the batch: `key` names the group each may join
// (none: it joins none). Each joins the first group of its key that stays ordered: no group reads,
// through any chain of values, a sum of a group that reads one of its own (Kahn's algorithm over
// the groups' reads), so the groups can run one after the other.
std::vector<std::vector<const Value*>> Stage::sibling_groups(
    const SchedulePasses& passes, const std::function<std::optional<std::string>(const Value&)>& key) const {
    std::set<std::string> reductions;
    for (const Value* value : passes.stored)
        if (value->kind == ValueKind::reduction) reductions.insert(value->func.name());
    std::map<std::string, std::set<std::string>> reads;  // Func → the stored reductions it reads, transitively
    struct Group {
        std::string key;
        std::vector<const Value*> members;
    };
    std::vector<Group> groups;
    auto reads_any = [&](const Group& reader, const Group& read) {
        for (const Value* member : reader.members)
            for (const Value* other : read.members)
                if (reads[member->func.name()].count(other->func.name())) return true;
        return false;
    };
    auto ordered = [&] {
        const std::size_t n = groups.size();
        std::vector<int> waiting(n, 0);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j)
                if (reads_any(groups[i], groups[j])) ++waiting[i];
        std::vector<bool> done(n, false);
        for (std::size_t round = 0; round < n; ++round) {
            std::size_t ready = n;
            for (std::size_t i = 0; i < n && ready == n; ++i)
                if (!done[i] && waiting[i] == 0) ready = i;
            if (ready == n) return false;
            done[ready] = true;
            for (std::size_t i = 0; i < n; ++i)
                if (!done[i] && reads_any(groups[i], groups[ready])) --waiting[i];
        }
        return true;
    };
    std::set<std::string> seen;
    for (std::type_index node : order_) {
        const Value& value = values_.at(node);
        const std::string& name = value.func.name();
        std::set<std::string>& mine = reads[name];
        for (std::type_index operand : value.operand_nodes) {
            const std::string& read = values_.at(operand).func.name();
            if (read == name) continue;  // running(x) is x while training
            const std::set<std::string>& through = reads[read];
            mine.insert(through.begin(), through.end());
            if (reductions.count(read)) mine.insert(read);
        }
        if (!reductions.count(name) || !seen.insert(name).second) continue;
        const std::optional<std::string> joins = key(value);
        if (!joins) continue;
        bool joined = false;
        for (Group& group : groups) {
            if (group.key != *joins) continue;
            group.members.push_back(&value);
            if (ordered()) {
                joined = true;
                break;
            }
            group.members.pop_back();
        }
        if (!joined) groups.push_back({*joins, {&value}});
    }
    std::vector<std::vector<const Value*>> members;
    for (Group& group : groups) members.push_back(std::move(group.members));
    return members;
}

namespace {
std::string shape_key(dsl::Shape shape) {
    return std::to_string(shape.rows) + "x" + std::to_string(shape.cols) + "x" + std::to_string(shape.height) + "x" +
           std::to_string(shape.width);
}

// Replaces the calls to one Func (at its own pure variables) by an expression.
struct ReplaceCalls : Internal::IRMutator {
    std::string name;
    Expr by;
    using Internal::IRMutator::visit;
    Expr visit(const Internal::Call* call) override {
        if (call->call_type == Internal::Call::Halide && call->name == name) return by;
        return Internal::IRMutator::visit(call);
    }
};

// What one per-channel sum (lower/reduce.cpp: f(c, r) = 0; f(c, r) += E over "over_nhw"; a mean
// then f(c, r) = f(c, r) / count) adds: E, read off its first update.
Expr summand(const Func& sum) {
    const Internal::Function& f = sum.function();
    if (!f.has_update_definition() || f.update(0).values().size() != 1)
        throw std::logic_error("channel sum " + sum.name() + ": expected one update that adds");
    const auto* add = f.update(0).values()[0].as<Internal::Add>();
    const auto* call = add ? add->a.as<Internal::Call>() : nullptr;
    if (!call || call->name != f.name())
        throw std::logic_error("channel sum " + sum.name() + ": its update is not f(c, r) + E");
    return add->b;
}

// The sum's value from its accumulated total: what its later updates (a mean's division) make of it.
Expr finished(const Func& sum, Expr total) {
    const Internal::Function& f = sum.function();
    for (std::size_t u = 1; u < f.updates().size(); ++u) {
        const Internal::Definition& update = f.update(int(u));
        for (std::size_t a = 0; a < update.args().size(); ++a) {
            const auto* var = update.args()[a].as<Internal::Variable>();
            if (!var || var->name != f.args()[a])
                throw std::logic_error("channel sum " + sum.name() + ": a later update must be at its pure variables");
        }
        ReplaceCalls replace;
        replace.name = f.name();
        replace.by = total;
        total = replace.mutate(update.values().at(0));
    }
    return total;
}
}  // namespace

// Pass 5a: per-channel sums over images of the same shape and layout that may run in one pass
// (sibling_groups: the same knobs too) become the components of one Func of a Tuple, each
// sum's own Func a read of its component. One update adds every sum's term at each element: they
// share their loads and Halide's common subexpressions (batch norm's backward: four sums of the
// same incoming gradient and normalized image), and the update's loops can hold a producer (a
// max-pool route, computed per plane inside them: choose_recomputed_routes), which Halide 14
// cannot compile inside Funcs fused by compute_with. Each component adds the same terms in the
// same order as its own Func did: the same floats.
void Stage::merge_sibling_channel_sums(SchedulePasses& passes) {
    auto key = [&](const Value& value) -> std::optional<std::string> {
        const auto* facts = std::get_if<loops::ChannelReduction>(&value.loops);
        if (!facts) return std::nullopt;
        const FuncSchedule knobs = context_.knobs(value.func, LoopKind::reduction);
        return std::string(facts->channels_innermost ? "nhwc/" : "nchw/") + shape_key(facts->image) + "/" +
               std::to_string(knobs.vector_width) + "/" + std::to_string(knobs.rows_per_task);
    };
    const std::vector<std::vector<const Value*>> groups = sibling_groups(passes, key);
    if (groups.empty()) return;
    // Every Func of the stage, to have its calls to a merged sum replaced.
    std::vector<Internal::Function> roots;
    for (const Func& output : outputs_) roots.push_back(output.function());
    for (const auto& [node, value] : values_) roots.push_back(value.func.function());
    std::map<std::string, Internal::Function> everything = Internal::build_environment(roots);
    for (const std::vector<const Value*>& group : groups) {
        const Func& first = group.front()->func;
        const std::vector<Var> args = first.args();
        const std::vector<RVar> first_over = first.rvars(0);
        Region extents;
        for (const Internal::ReductionVariable& over : first.function().update(0).schedule().rvars())
            extents.push_back({over.min, over.extent});
        RDom over(extents, "over_nhw");
        std::vector<Expr> zeros, terms;
        for (const Value* member : group) {
            const std::vector<Internal::ReductionVariable>& own = member->func.function().update(0).schedule().rvars();
            if (own.size() != extents.size())
                throw std::logic_error("channel sum " + member->func.name() + ": not over the group's (x, y, rows)");
            Expr term = summand(member->func);
            for (std::size_t d = 0; d < own.size(); ++d) term = Internal::substitute(own[d].var, over[int(d)], term);
            zeros.push_back(0.0f);
            terms.push_back(term);
        }
        Func sums(context_.fresh_name("channel_sums"));
        const std::size_t n = group.size();
        auto total = [&](std::size_t i) { return n == 1 ? Expr(sums(args)) : Expr(sums(args)[int(i)]); };
        if (n == 1) {
            sums(args) = zeros[0];
            sums(args) = total(0) + terms[0];
        } else {
            sums(args) = Tuple(zeros);
            std::vector<Expr> added;
            for (std::size_t i = 0; i < n; ++i) added.push_back(total(i) + terms[i]);
            sums(args) = Tuple(added);
        }
        const loops::ChannelReduction facts = std::get<loops::ChannelReduction>(group.front()->loops);
        for (std::size_t i = 0; i < n; ++i) {
            const Func member = group[i]->func;
            // Named as the sum was (Halide adds its "$n"): its plan key, the knobs a plan gives
            // it and the tuner's record of them stay the sum's.
            Func component(plan_key(member));
            component(args) = finished(member, total(i));
            for (auto& [name, function] : everything)
                if (name != member.name()) function.substitute_calls(member.function(), component.function());
            // Every node the sum stands for (one Func can be two nodes: running(x) is x while training).
            for (auto& [node, value] : values_)
                if (value.func.name() == member.name()) {
                    value.func = component;
                    value.loops = loops::SumComponent{sums, facts, i + 1 == n};
                }
        }
        merged_sums_.push_back(sums);
    }
}

namespace {
// Each Func's direct callees, by name.
std::set<std::string> callees(const Internal::Function& f) {
    std::set<std::string> names;
    for (const auto& [name, function] : Internal::find_direct_calls(f))
        if (name != f.name()) names.insert(name);
    return names;
}
}  // namespace

// Pass 5b: a max-pool route (a stored image whose formula reads a pooling's window helper) whose
// every reader recomputes it a plane at a time in its own loops — merged per-channel sums, and a
// first layer's filter adjoint along its planes (lower/conv.cpp, which reads the output gradient
// inside its tiles) — is never stored: a write of an image at the unpooled size and a read back
// per reader saved for a few compares per window (schedule::copy_routes_into). A route any other
// Func reads (a stored elementwise value, an output) stays stored for all of them.
void Stage::choose_recomputed_routes(const SchedulePasses& passes) {
    std::set<std::string> stored;  // Funcs with storage of their own (or stage inputs)
    for (const Value* value : passes.stored) stored.insert(value->func.name());
    for (const auto& [node, value] : values_)
        if (value.kind == ValueKind::source) stored.insert(value.func.name());
    for (const Func& sums : merged_sums_) stored.insert(sums.name());
    std::vector<Internal::Function> roots;
    for (const Func& output : outputs_) roots.push_back(output.function());
    for (const auto& [node, value] : values_) roots.push_back(value.func.function());
    for (const Func& sums : merged_sums_) roots.push_back(sums.function());
    const std::map<std::string, Internal::Function> everything = Internal::build_environment(roots);
    // The stored Funcs (and window helpers) each Func reads through Funcs computed inline.
    std::map<std::string, std::set<std::string>> memo;
    std::function<const std::set<std::string>&(const std::string&)> reads =
        [&](const std::string& name) -> const std::set<std::string>& {
        if (auto known = memo.find(name); known != memo.end()) return known->second;
        std::set<std::string> found;
        for (const std::string& callee : callees(everything.at(name))) {
            if (stored.count(callee) || schedule::is_window_helper(callee)) {
                found.insert(callee);
            } else if (everything.count(callee)) {
                const std::set<std::string>& through = reads(callee);
                found.insert(through.begin(), through.end());
            }
        }
        return memo[name] = std::move(found);
    };
    // The readers that recompute a route: merged sums, and filter adjoints along planes.
    std::set<std::string> recomputing;
    for (const Func& sums : merged_sums_) recomputing.insert(sums.name());
    for (const Value* value : passes.stored)
        if (const auto* conv = std::get_if<loops::Conv>(&value->loops))
            if (conv->form == ConvFacts::Form::block_sums && conv->padded.size() == 3)
                recomputing.insert(value->func.name());
    std::vector<std::string> readers;  // every stored Func and output
    for (const std::string& name : stored)
        if (everything.count(name)) readers.push_back(name);
    for (const Func& output : outputs_) readers.push_back(output.name());
    for (const Value* route : passes.stored) {
        const std::string& name = route->func.name();
        if (route->kind != ValueKind::elementwise || !route->shape.image() || route->channels_innermost) continue;
        bool is_route = false;
        for (const std::string& read : reads(name)) is_route |= schedule::is_window_helper(read);
        if (!is_route) continue;
        bool all_recompute = true, read = false;
        for (const std::string& reader : readers) {
            if (reader == name || !reads(reader).count(name)) continue;
            read = true;
            all_recompute &= recomputing.count(reader) > 0;
        }
        if (read && all_recompute) context_.recomputed_routes.insert(name);
    }
}

// Pass 7: sums over rows into the same image shape ([N×C×H×W] → [1×C×H×W]: a per-position
// bias's gradient) with the same vector width that do not read each other run in one pass over
// the batch (schedule::reduction_with, Halide's compute_with): each plane of what they read is
// loaded once for all. (Per-channel sums are merged into Tuple Funcs instead: pass 5a.)
void Stage::fuse_sibling_reductions(const SchedulePasses& passes) {
    auto key = [&](const Value& value) -> std::optional<std::string> {
        const auto* over_rows = std::get_if<loops::Reduction>(&value.loops);
        if (!over_rows || over_rows->axis != 0 || !value.shape.image()) return std::nullopt;
        return shape_key(value.shape) + "/" + std::to_string(applied_.at(plan_key(value.func)).vector_width);
    };
    for (const std::vector<const Value*>& group : sibling_groups(passes, key))
        for (std::size_t i = 1; i < group.size(); ++i)
            schedule::reduction_with(group[i]->func, group.front()->func, context_);
}

}  // namespace kiln::codegen
