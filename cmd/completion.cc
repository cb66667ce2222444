// evt completion bash|zsh|fish: prints the completion scripts kept in completions/.
#include <unistd.h>

#include "cmd/common.h"

namespace evt::cmd {

// Generated at build time from completions/ (see CMakeLists.txt).
extern const char* const kBashCompletion;
extern const char* const kZshCompletion;
extern const char* const kFishCompletion;

RunFn SetupCompletion(CLI::App* app) {
  auto shell = std::make_shared<std::string>();
  app->add_option("SHELL", *shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
  return [shell]() {
    const char* s = *shell == "bash" ? kBashCompletion : *shell == "zsh" ? kZshCompletion : kFishCompletion;
    auto out = Stdout();
    Status st = out->Append(s);
    if (st.ok()) st = out->Flush();
    return Finish(st);
  };
}

}  // namespace evt::cmd
