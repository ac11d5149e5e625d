#include "kiln/train/trainer.hpp"

#include <chrono>
#include <cmath>

#include "kiln/checkpoint.hpp"
#include "kiln/data/batches.hpp"
#include "kiln/error.hpp"
#include "kiln/metrics.hpp"
#include "kiln/train/progress.hpp"

namespace kiln {

uint32_t step_seed(uint64_t seed, long step) {
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + uint64_t(step) + 1;  // splitmix64
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return uint32_t((x ^ (x >> 31)) >> 32);
}

TrainResult train(Model& model, const DataSplit& data, const Standardizer& standardizer, const TrainSettings& settings) {
    if (settings.epochs < 1) fail("--epochs: must be at least 1, got {}", settings.epochs);
    if (settings.batch < 1) fail("--batch: must be at least 1, got {}", settings.batch);
    const ModelDescriptor& d = model.descriptor();
    auto optimizer = make_optimizer(settings.optimizer, model.params().all().size());
    LrSchedule schedule = settings.schedule;
    schedule.lr = settings.optimizer.lr;
    validate(schedule);
    const long steps_per_epoch = (long(data.train.size()) + settings.batch - 1) / settings.batch;
    long step = 0;
    MetricsWriter metrics(settings.metrics_path);
    TrainResult result;
    const auto start = std::chrono::steady_clock::now();

    for (int epoch = 1; epoch <= settings.epochs; ++epoch) {
        const auto epoch_start = std::chrono::steady_clock::now();
        std::vector<int> order = shuffled_indices(data.train.size(), settings.seed * 1000003 + uint64_t(epoch));
        ProgressBar progress(fmt::format("epoch {}/{}", epoch, settings.epochs), int((order.size() + settings.batch - 1) / settings.batch),
                             settings.progress);
        double loss_sum = 0;
        int steps = 0;
        for (std::size_t at = 0; at < order.size(); at += std::size_t(settings.batch)) {
            std::span<const int> indices(order.data() + at, std::min<std::size_t>(std::size_t(settings.batch), order.size() - at));
            Batch batch = make_batch(data.train, indices, d.supervision);
            optimizer->lr = float(learning_rate(schedule, step++, steps_per_epoch));
            const float loss = model.forward_backward(batch, step_seed(settings.seed, step - 1));
            if (!std::isfinite(loss))
                fail("training diverged: loss is {} at epoch {}, step {} (try a smaller --lr)", loss, epoch, steps + 1);
            optimizer->step(model.params(), model.gradients());
            loss_sum += loss;
            ++steps;
            progress.update(steps, loss_sum / steps);
        }
        progress.finish();
        const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
        Evaluation validation = evaluate(model, data.test, std::max(settings.batch, 256));
        nlohmann::json record{{"epoch", epoch}, {"train_loss", loss_sum / steps}, {"val_loss", validation.loss}, {"lr", optimizer->lr},
                               {"seconds", train_seconds}};
        if (validation.accuracy >= 0) record["val_accuracy"] = validation.accuracy;
        metrics.write(record);
        fmt::print(stderr, "epoch {:>3}  train_loss {:.4f}  val_loss {:.4f}{}  {:.2f}s\n", epoch, loss_sum / steps, validation.loss,
                   validation.accuracy >= 0 ? fmt::format("  val_accuracy {:.4f}", validation.accuracy) : "", train_seconds);
        if (!settings.checkpoint_path.empty()) save_checkpoint(settings.checkpoint_path, model, standardizer, epoch);
        result.final_train_loss = loss_sum / steps;
        result.final_validation = validation;
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

}  // namespace kiln
