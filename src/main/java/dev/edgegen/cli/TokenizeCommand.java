package dev.edgegen.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.edgegen.pipeline.ModelLoader;
import dev.edgegen.pipeline.StableDiffusion;
import dev.edgegen.pipeline.TextEncoder;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Print a prompt's token ids as JSON.")
final class TokenizeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PROMPT")
    String prompt;

    @Mixin
    ModelOption model;

    @Override
    public Integer call() throws Exception {
        try (NDManager root = NDManager.newBaseManager(); StableDiffusion sd = ModelLoader.load(model.resolve(), root)) {
            TextEncoder.Tokenized t = sd.textEncoder.tokenize(prompt);
            ObjectMapper json = new ObjectMapper();
            ObjectNode out = json.createObjectNode();
            out.put("prompt", prompt);
            var ids = out.putArray("input_ids");
            for (int id : t.ids()) ids.add(id);
            out.put("token_count", t.tokenCount());
            out.put("truncated", t.truncated());
            System.out.println(json.writeValueAsString(out));
            return 0;
        }
    }
}
