// `grad`: the loss and every parameter's gradient for given parameters and one batch, safetensors
// in and out (to compare kiln's derived gradients with PyTorch's).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <limits>

#include "commands.hpp"
#include "kiln/checkpoint.hpp"
#include "kiln/error.hpp"
#include "kiln/torch_layout.hpp"

namespace kiln::cli {

namespace {
struct GradOptions {
    std::string params, batch, output;
};

void run_grad(const Session& session, const GradOptions& o) {
    const ModelDescriptor& d = session.model;
    Model model = session.checkpointed_model(o.params).model;
    SafetensorsFile batch_file = read_safetensors(o.batch);
    auto tensor = [&](const std::string& name) -> const NamedTensor& {
        auto found = batch_file.tensors.find(name);
        if (found == batch_file.tensors.end())
            fail("{}: no tensor '{}' (the model's {} leaf)", o.batch, name,
                 name == d.input.name ? "input" : "labels/target");
        return found->second;
    };
    const NamedTensor& x = tensor(d.input.name);
    // [N × C·H·W], or an image input at its full rank [N × C × H × W] (the same NCHW bytes).
    const TensorShape input = d.input.shape();
    std::vector<int64_t> full = input.dims(), flat{batch_rows, input.per_row()};
    if (!x.shape.empty()) full[0] = flat[0] = x.shape[0];
    if (x.shape.empty() || x.shape[0] < 0 || (x.shape != full && x.shape != flat))
        fail("{}: tensor '{}' must be {}{}", o.batch, d.input.name, input.text(),
             input.image() ? fmt::format(" or [N×{}]", input.per_row()) : "");
    if (x.shape[0] == 0 || x.shape[0] > std::numeric_limits<int>::max())
        fail("{}: tensor '{}' holds {} samples, expected 1 to {}", o.batch, d.input.name, x.shape[0],
             std::numeric_limits<int>::max());
    Batch batch;
    batch.features = Tensor(int(x.shape[0]), input.per_row());
    batch.features.values.assign(x.values.begin(), x.values.end());
    const NamedTensor& y = tensor(d.supervision.name);
    const int64_t rows = batch.size();
    if (d.supervision.integer_labels) {
        // Class ids [N] (or [N×1]), each a whole number in range: converting 3.7 or 1e10 to an
        // integer would train on a label nobody wrote.
        if (y.shape != std::vector<int64_t>{rows} && y.shape != std::vector<int64_t>{rows, 1})
            fail("{}: tensor '{}' must be [{}] (one class id per sample), found {}", o.batch, d.supervision.name, rows,
                 fmt::format("[{}]", fmt::join(y.shape, "×")));
        for (std::size_t i = 0; i < y.values.size(); ++i) {
            const float label = y.values[i];
            if (label != std::floor(label) || label < 0 || label >= float(d.supervision.classes))
                fail("{}: tensor '{}': element {} is {}, expected a class id 0..{}", o.batch, d.supervision.name, i,
                     label, d.supervision.classes - 1);
        }
        batch.labels.assign(y.values.begin(), y.values.end());
    } else {
        const std::vector<int64_t> expected{rows, d.supervision.cols};
        if (y.shape != expected && !(d.supervision.cols == 1 && y.shape == std::vector<int64_t>{rows}))
            fail("{}: tensor '{}' must be [{}×{}], found {}", o.batch, d.supervision.name, rows, d.supervision.cols,
                 fmt::format("[{}]", fmt::join(y.shape, "×")));
        batch.targets = Tensor(batch.size(), d.supervision.cols);
        batch.targets.values.assign(y.values.begin(), y.values.end());
    }
    model.validate(batch, o.batch);
    const float loss = model.forward_backward(batch);
    SafetensorsFile out;
    out.metadata = {{"model", d.name}};
    mark_torch_layout(out);  // each gradient in its parameter's PyTorch layout, as --params is read
    out.tensors["loss"] = {{}, {loss}};
    for (std::size_t i = 0; i < d.params.size(); ++i)
        out.tensors[d.params[i].name] = to_torch(d.params[i], model.gradients()[i].dense());
    write_safetensors(o.output, out);
    print_result({{"loss", loss}, {"output", o.output}});
}
}  // namespace

Command add_grad(CLI::App& app, const Session& session) {
    const ModelDescriptor& d = session.model;
    auto [grad, o] = new_command<GradOptions>(
        app, "grad", "loss and all gradients for given parameters and one batch (safetensors in and out)");
    grad->add_option("--params", o->params,
                     "safetensors with every parameter by name, in PyTorch's layout (a state_dict, or a checkpoint)")
        ->required();
    grad->add_option(
            "--batch", o->batch,
            fmt::format("safetensors with '{}' {} and '{}'", d.input.name, d.input.shape().text(), d.supervision.name))
        ->required();
    grad->add_option("--output", o->output, "safetensors to write: 'loss' and one gradient per parameter")->required();
    return {grad, [o, &session] { run_grad(session, *o); }};
}

}  // namespace kiln::cli
