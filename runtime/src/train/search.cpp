// Hyper-parameter search: random or grid trials on a validation hold-out, optionally coarse to fine.
#include "kiln/train/search.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "kiln/error.hpp"
#include "kiln/optim/optimizer.hpp"

namespace kiln {

const std::vector<std::string>& searchable_names() {
    static const std::vector<std::string> names{"lr",    "weight-decay", "momentum",     "beta1",    "beta2",
                                                "batch", "clip-norm",    "warmup-steps", "optimizer"};
    return names;
}

namespace {
std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t at; (at = text.find(separator, start)) != std::string::npos; start = at + 1)
        parts.push_back(text.substr(start, at - start));
    parts.push_back(text.substr(start));
    return parts;
}

double number(const std::string& text, const std::string& what) {
    try {
        std::size_t used = 0;
        double v = std::stod(text, &used);
        if (used == text.size()) return v;
    } catch (const std::exception&) {}
    fail("--space {}: '{}' is not a number", what, text);
}

bool integer_valued(const std::string& name) { return name == "batch" || name == "warmup-steps"; }

std::string value_text(const SearchDimension& d, double v) {
    return integer_valued(d.name) ? std::to_string(std::lround(v)) : fmt::format("{:.6g}", v);
}

double from_unit(const SearchDimension& d, double u) {  // u ∈ [0, 1] → the dimension's value
    return d.scale == "log" ? std::exp(std::log(d.low) + u * (std::log(d.high) - std::log(d.low)))
                            : d.low + u * (d.high - d.low);
}

Config sample(const std::vector<SearchDimension>& space, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    Config config;
    for (const SearchDimension& d : space) {
        if (d.scale == "choice") config[d.name] = d.choices[rng() % d.choices.size()];
        else config[d.name] = value_text(d, from_unit(d, unit(rng)));
    }
    return config;
}

std::vector<Config> grid(const std::vector<SearchDimension>& space, int points) {
    std::vector<Config> configs{{}};
    for (const SearchDimension& d : space) {
        std::vector<std::string> values = d.choices;
        if (d.scale != "choice")
            for (int i = 0; i < points; ++i)
                values.push_back(value_text(d, from_unit(d, points == 1 ? 0.5 : double(i) / (points - 1))));
        std::vector<Config> next;
        for (const Config& c : configs)
            for (const std::string& v : values) {
                Config extended = c;
                extended[d.name] = v;
                next.push_back(extended);
            }
        configs = next;
    }
    return configs;
}

// The fine stage's space: each numeric dimension narrowed to the range of the best trials'
// values, widened by half that range on each side (in log space for log dimensions); choices
// narrowed to those the best trials used.
std::vector<SearchDimension> refine(const std::vector<SearchDimension>& space, const std::vector<Trial>& best) {
    std::vector<SearchDimension> fine;
    for (SearchDimension d : space) {
        if (d.scale == "choice") {
            std::vector<std::string> used;
            for (const Trial& t : best)
                if (std::find(used.begin(), used.end(), t.config.at(d.name)) == used.end())
                    used.push_back(t.config.at(d.name));
            d.choices = used;
        } else {
            const bool log_scale = d.scale == "log";
            auto to_axis = [&](double v) { return log_scale ? std::log(v) : v; };
            double low = INFINITY, high = -INFINITY;
            for (const Trial& t : best) {
                const double v = to_axis(std::stod(t.config.at(d.name)));
                low = std::min(low, v);
                high = std::max(high, v);
            }
            const double margin = std::max(0.5 * (high - low), 0.05 * (to_axis(d.high) - to_axis(d.low)));
            low = std::max(to_axis(d.low), low - margin);
            high = std::min(to_axis(d.high), high + margin);
            d.low = log_scale ? std::exp(low) : low;
            d.high = log_scale ? std::exp(high) : high;
        }
        fine.push_back(d);
    }
    return fine;
}

bool better(const Trial& a, const Trial& b) {  // lower validation loss; failed trials last
    if (a.diverged != b.diverged) return !a.diverged;
    return a.val_loss < b.val_loss;
}
}  // namespace

SearchDimension parse_search_dimension(const std::string& text) {
    const auto equals = text.find('=');
    if (equals == std::string::npos)
        fail("--space '{}': expected name=log:low:high, name=linear:low:high or name=choice:a,b", text);
    SearchDimension d;
    d.name = text.substr(0, equals);
    if (std::find(searchable_names().begin(), searchable_names().end(), d.name) == searchable_names().end())
        fail("--space '{}': '{}' is not searchable (one of {})", text, d.name, fmt::join(searchable_names(), ", "));
    const std::vector<std::string> parts = split(text.substr(equals + 1), ':');
    d.scale = parts[0];
    if (d.scale == "choice") {
        if (parts.size() != 2 || parts[1].empty()) fail("--space '{}': expected {}=choice:a,b,c", text, d.name);
        d.choices = split(parts[1], ',');
        if (d.name == "optimizer")
            for (const std::string& c : d.choices)
                if (std::find(optimizer_names().begin(), optimizer_names().end(), c) == optimizer_names().end())
                    fail("--space '{}': unknown optimizer '{}'", text, c);
        return d;
    }
    if ((d.scale != "log" && d.scale != "linear") || parts.size() != 3)
        fail("--space '{}': expected {}=log:low:high, {}=linear:low:high or {}=choice:a,b", text, d.name, d.name,
             d.name);
    if (d.name == "optimizer") fail("--space '{}': optimizer takes choice:…", text);
    d.low = number(parts[1], text);
    d.high = number(parts[2], text);
    if (!(d.low < d.high)) fail("--space '{}': low must be below high", text);
    if (d.scale == "log" && d.low <= 0) fail("--space '{}': a log-scale range must be positive", text);
    return d;
}

void apply_config(const Config& config, TrainSettings& s) {
    for (const auto& [name, value] : config) {
        if (name == "optimizer") {
            s.optimizer.name = value;
            continue;
        }
        const double v = std::stod(value);
        if (name == "lr") s.optimizer.lr = float(v);
        else if (name == "weight-decay") s.optimizer.weight_decay = float(v);
        else if (name == "momentum") s.optimizer.momentum = float(v);
        else if (name == "beta1") s.optimizer.beta1 = float(v);
        else if (name == "beta2") s.optimizer.beta2 = float(v);
        else if (name == "batch") s.batch = int(std::lround(v));
        else if (name == "clip-norm") s.optimizer.clip_norm = float(v);
        else if (name == "warmup-steps") s.schedule.warmup_steps = std::lround(v);
        else fail("search: unknown hyper-parameter '{}'", name);
    }
}

std::vector<Trial> run_search(const SearchSettings& search, const TrainSettings& base,
                              const std::function<Trial(const TrainSettings&)>& run_trial,
                              const std::function<void(const Trial&)>& on_trial) {
    if (search.space.empty()) fail("search: give at least one --space");
    std::mt19937_64 rng(search.seed);
    std::vector<Trial> trials;
    auto run_stage = [&](int stage, const std::vector<Config>& configs, int epochs) {
        std::vector<Trial> done;
        for (const Config& config : configs) {
            TrainSettings settings = base;
            settings.epochs = epochs;
            settings.seed = base.seed + uint64_t(trials.size());
            apply_config(config, settings);
            Trial trial = run_trial(settings);
            trial.number = int(trials.size()) + 1;
            trial.stage = stage;
            trial.config = config;
            trials.push_back(trial);
            done.push_back(trial);
            on_trial(trial);
        }
        return done;
    };
    auto configs_for = [&](const std::vector<SearchDimension>& space) {
        if (search.strategy == "grid") return grid(space, search.grid_points);
        std::vector<Config> configs;
        for (int i = 0; i < search.trials; ++i) configs.push_back(sample(space, rng));
        return configs;
    };
    std::vector<Trial> coarse = run_stage(1, configs_for(search.space), base.epochs);
    if (search.coarse_to_fine) {
        std::sort(coarse.begin(), coarse.end(), better);
        std::vector<Trial> best(
            coarse.begin(),
            coarse.begin() + std::min<std::size_t>(std::size_t(std::max(1, search.keep)), coarse.size()));
        best.erase(std::remove_if(best.begin(), best.end(), [](const Trial& t) { return t.diverged; }), best.end());
        if (best.empty()) fail("search: every coarse trial diverged; narrow the --space ranges");
        run_stage(2, configs_for(refine(search.space, best)),
                  search.fine_epochs > 0 ? search.fine_epochs : base.epochs);
    }
    std::stable_sort(trials.begin(), trials.end(), better);
    return trials;
}

}  // namespace kiln
