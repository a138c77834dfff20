#include "cli/app_context.h"
#include "cli/commands.h"

#include <iostream>

namespace flowpilot::cli {

void add_validate_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("validate", "Check workflow files and report every problem");
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("files", *files, "Workflow files (.yaml, .yml)")->required();
  cmd->callback([files, &exit_code] {
    AppContext context(CommonOptions{});
    int invalid = 0;
    for (const auto& file : *files) {
      auto result = engine::load_workflow_file(file, context.load_context());
      if (result.ok()) {
        std::cout << file << ": ok (workflow `" << result.workflow->id << "`, "
                  << result.workflow->steps.size()
                  << (result.workflow->steps.size() == 1 ? " step)\n" : " steps)\n");
        continue;
      }
      ++invalid;
      for (const auto& d : result.diagnostics) std::cerr << d.to_string() << "\n";
    }
    if (invalid > 0) {
      std::cerr << invalid << " of " << files->size() << " file(s) invalid\n";
      exit_code = kExitFailed;
    } else {
      exit_code = kExitOk;
    }
  });
}

}  // namespace flowpilot::cli
