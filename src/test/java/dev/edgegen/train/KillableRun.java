package dev.edgegen.train;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;

/** Child process of {@link SigkillTest}: trains the tiny MLP with a checkpoint after every step. */
public final class KillableRun {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        boolean resume = args.length > 1;
        try (NDManager m = NDManager.newBaseManager()) {
            TinyMlp model = new TinyMlp();
            model.initialize(m, 0.5f, 1);
            new Trainer(model, SigkillTest.options(), new ObjectMapper().createObjectNode(), dir, m)
                    .run(new TrainerTest.RegressionTask(model), resume, info -> {
                        if (info.step() == 3) System.out.println("STARTED");
                        System.out.flush();
                    }, false);
        }
    }
}
