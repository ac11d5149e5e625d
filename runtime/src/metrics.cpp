// Loss and accuracy over a data set, and the per-epoch metrics written as JSON lines.
#include "kiln/metrics.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>

#include "kiln/data/batches.hpp"
#include "kiln/distributed.hpp"
#include "kiln/error.hpp"
#include "kiln/metrics_file.hpp"

namespace kiln {

bool prediction_correct(const ModelDescriptor& model, const float* prediction, float label) {
    if (model.loss_kind == LossKind::softmax_cross_entropy)
        return int(std::max_element(prediction, prediction + model.prediction_cols) - prediction) == int(label);
    return (prediction[0] > 0) == (label > 0.5f);  // bce_with_logits: the prediction is a logit
}

Evaluation evaluate(Model& model, const Dataset& data, int batch_size) {
    const ModelDescriptor& d = model.descriptor();
    const bool classification = is_classifier(d.loss_kind);
    if (data.size() == 0) fail("{}: no samples to evaluate", data.source);
    // In a data-parallel job each rank scores its share of the samples, and the sums are reduced.
    const distributed::Share mine = distributed::share_of(std::size_t(data.size()));
    std::vector<int> order(mine.count);
    std::iota(order.begin(), order.end(), int(mine.begin));
    double sums[2] = {0, 0};  // loss × rows, correct predictions
    Batch batch;
    for (std::size_t start = 0; start < order.size(); start += std::size_t(batch_size)) {
        std::span<const int> indices(order.data() + start, std::min(std::size_t(batch_size), order.size() - start));
        gather_batch(data, indices, d.supervision, batch);
        sums[0] += double(model.loss(batch)) * batch.size();
        if (classification) {
            Tensor prediction = model.predict(batch.features);
            for (int i = 0; i < batch.size(); ++i)
                sums[1] += prediction_correct(d, prediction.row(i), data.labels[indices[i]]);
        }
    }
    distributed::sum(std::span<double>(sums));
    Evaluation result;
    result.samples = data.size();
    result.loss = sums[0] / data.size();
    if (classification) result.accuracy = sums[1] / data.size();
    return result;
}

MetricsWriter::MetricsWriter(const std::string& path, std::optional<int> resume_epoch) : path_(path) {
    if (path.empty()) return;
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd_ < 0) fail("--metrics: cannot write {}: {}", path, std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd_);
        fd_ = -1;
        fail(
            "--metrics: {} is being written by another run (two runs' records would interleave); give each run its "
            "own file",
            path);
    }
    // The kept prefix: whole records of epochs up to resume_epoch (none when starting anew).
    off_t keep = 0;
    if (resume_epoch) {
        std::string content;
        char chunk[1 << 16];
        for (ssize_t got; (got = ::read(fd_, chunk, sizeof chunk)) > 0;) content.append(chunk, std::size_t(got));
        keep = off_t(metrics_prefix_through(content, *resume_epoch));
    }
    if (::ftruncate(fd_, keep) != 0 || ::lseek(fd_, 0, SEEK_END) < 0)
        fail("--metrics: cannot write {}: {}", path, std::strerror(errno));
}

MetricsWriter::~MetricsWriter() {
    if (fd_ >= 0) ::close(fd_);
}

void MetricsWriter::write(const nlohmann::json& record) {
    if (path_.empty()) return;
    const std::string line = record.dump() + '\n';
    for (std::size_t done = 0; done < line.size();) {
        const ssize_t written = ::write(fd_, line.data() + done, line.size() - done);
        if (written < 0) fail("--metrics: write to {} failed: {}", path_, std::strerror(errno));
        done += std::size_t(written);
    }
}

}  // namespace kiln
