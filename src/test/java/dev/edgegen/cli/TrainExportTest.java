package dev.edgegen.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.edgegen.io.SafetensorsFile;
import dev.edgegen.pipeline.GenerationRequest;
import dev.edgegen.pipeline.MiniLmEncoder;
import dev.edgegen.pipeline.ModelLoader;
import dev.edgegen.pipeline.StableDiffusion;
import dev.edgegen.pipeline.TextToImage;
import dev.edgegen.train.Checkpoint;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `edgegen train autoencoder`, `train unet` and `export` for a few steps, then the model generates through the pipeline. */
class TrainExportTest {
    @TempDir
    Path tmp;

    private static final String DATA = "\"data\": {\"emoji_weight\": 0, \"synthetic_weight\": 1, \"batch_size\": 2, \"threads\": 1},";

    /** A tiny autoencoder stage writing runs/ae; {@code data} is a whole {@code "data": {...},} section. */
    private static String autoencoderConfig(String data, int steps) {
        return "{\"stage\": \"autoencoder\", \"output\": \"runs/ae\", " + data
                + "\"model\": {\"block_out_channels\": [8, 8, 8], \"norm_num_groups\": 4, \"layers_per_block\": 1, \"sample_size\": 64},"
                + "\"trainer\": {\"steps\": " + steps + ", \"warmup_steps\": 1}}";
    }

    /** A tiny UNet stage on runs/ae writing {@code output}. */
    private static String unetConfig(String output, String data, int steps) {
        return "{\"stage\": \"unet\", \"output\": \"" + output + "\", \"autoencoder\": \"runs/ae\", " + data
                + "\"model\": {\"sample_size\": 16, \"cross_attention_dim\": 384, \"block_out_channels\": [16, 32], \"layers_per_block\": 1,"
                + " \"down_block_types\": [\"CrossAttnDownBlock2D\", \"DownBlock2D\"], \"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\"],"
                + " \"attention_head_dim\": [2, 2], \"norm_num_groups\": 8},"
                + "\"trainer\": {\"steps\": " + steps + ", \"warmup_steps\": 1}, \"diffusion\": {\"max_tokens\": 12}}";
    }

    @Test
    void missingEmojiDataIsBadInputThatSaysHowToFetchIt() throws Exception {
        Path ae = tmp.resolve("ae.json");
        Files.writeString(ae, autoencoderConfig(
                "\"data\": {\"emoji_dir\": \"no-such-dir\", \"emoji_weight\": 1, \"batch_size\": 2, \"threads\": 1},", 2));
        CliTest.Run r = CliTest.run("train", "autoencoder", "--config", ae.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("no-such-dir") && r.err().contains("scripts/fetch-emoji.sh google")
                && !r.err().contains("internal error"), r.err());
    }

    @Test
    void aUnetStageKeepsItsLatentPoolAndAnotherRunOfTheSameConfigTrainsIdenticallyFromIt() throws Exception {
        Path ae = tmp.resolve("ae.json");
        Files.writeString(ae, autoencoderConfig(DATA, 1));
        assertEquals(0, Main.run("train", "autoencoder", "--config", ae.toString()));
        String unet = unetConfig("OUT", DATA.replace("\"threads\": 1}", "\"threads\": 1, \"pool\": 6}"), 3);
        Path a = tmp.resolve("a.json");
        Files.writeString(a, unet.replace("OUT", "runs/a"));
        CliTest.Run first = CliTest.run("train", "unet", "--config", a.toString());
        assertEquals(0, first.code(), first.err());
        assertTrue(first.err().contains("encode pool") && !first.err().contains("latent pool of"), first.err());
        assertTrue(Files.isRegularFile(tmp.resolve("runs/a/pool.safetensors")));
        // the same config in another directory that holds that pool: no encoding, the same training
        Files.createDirectories(tmp.resolve("runs/b"));
        Files.copy(tmp.resolve("runs/a/pool.safetensors"), tmp.resolve("runs/b/pool.safetensors"));
        Path b = tmp.resolve("b.json");
        Files.writeString(b, unet.replace("OUT", "runs/b"));
        CliTest.Run second = CliTest.run("train", "unet", "--config", b.toString());
        assertEquals(0, second.code(), second.err());
        assertTrue(second.err().contains("latent pool of 6 samples from") && !second.err().contains("encode pool"), second.err());
        try (NDManager m = NDManager.newBaseManager()) {
            var wa = Checkpoint.load(tmp.resolve("runs/a/checkpoint.safetensors"), m).ema();
            var wb = Checkpoint.load(tmp.resolve("runs/b/checkpoint.safetensors"), m).ema();
            for (String k : wa.keySet()) assertTrue(wa.get(k).contentEquals(wb.get(k)), k);
        }
        // another seed makes another pool: encoded again, not read; a damaged pool file is encoded again too
        byte[] kept = Files.readAllBytes(tmp.resolve("runs/b/pool.safetensors"));
        Files.write(tmp.resolve("runs/b/pool.safetensors"), java.util.Arrays.copyOf(kept, kept.length / 2));
        Path c = tmp.resolve("c.json");
        Files.writeString(c, unet.replace("OUT", "runs/b").replace("\"stage\": \"unet\",", "\"stage\": \"unet\", \"seed\": 9,"));
        Files.delete(tmp.resolve("runs/b/checkpoint.safetensors"));
        CliTest.Run third = CliTest.run("train", "unet", "--config", c.toString());
        assertEquals(0, third.code(), third.err());
        assertTrue(third.err().contains("encode pool") && third.err().contains("encoding the pool again"), third.err());
    }

    @Test
    void trainedModelDirectoryLoadsWithMiniLmAndGenerates() throws Exception {
        Path ae = tmp.resolve("ae.json");
        Files.writeString(ae, autoencoderConfig(DATA, 2));
        Path unet = tmp.resolve("unet.json");
        Files.writeString(unet, unetConfig("runs/unet", DATA, 2));
        assertEquals(2, Main.run("train", "unet", "--config", ae.toString()), "stage must match the config");
        assertEquals(0, Main.run("train", "autoencoder", "--config", ae.toString()));
        assertEquals(0, Main.run("train", "unet", "--config", unet.toString()));
        Path unet2 = tmp.resolve("unet2.json");
        Files.writeString(unet2, Files.readString(unet).replace("\"output\": \"runs/unet\"", "\"output\": \"runs/unet2\", \"init\": \"runs/unet\"")
                .replace("\"threads\": 1}", "\"threads\": 1, \"object_counts\": [0, 0, 1]}").replace("\"steps\": 2", "\"steps\": 1"));
        assertEquals(0, Main.run("train", "unet", "--config", unet2.toString()));
        for (String stat : new String[] {"latents_mean", "latents_std"}) {
            assertEquals(new ObjectMapper().readTree(tmp.resolve("runs/unet/vae/config.json").toFile()).path(stat),
                    new ObjectMapper().readTree(tmp.resolve("runs/unet2/vae/config.json").toFile()).path(stat),
                    "a continuation keeps its init run's latent scaling under another data mix");
        }
        Path ae2 = tmp.resolve("ae2.json");
        Files.writeString(ae2, Files.readString(ae).replace("\"output\": \"runs/ae\"", "\"output\": \"runs/ae2\", \"init\": \"runs/ae\"")
                .replace("\"steps\": 2, \"warmup_steps\": 1", "\"steps\": 1, \"warmup_steps\": 1, \"lr\": 1e-12"));
        assertEquals(0, Main.run("train", "autoencoder", "--config", ae2.toString()));
        try (NDManager m = NDManager.newBaseManager()) {
            var a = Checkpoint.load(tmp.resolve("runs/ae/checkpoint.safetensors"), m).ema().get("decoder.conv_out.weight");
            var b = Checkpoint.load(tmp.resolve("runs/ae2/checkpoint.safetensors"), m).model().get("decoder.conv_out.weight");
            assertTrue(a.sub(b).abs().max().getFloat() < 1e-6f, "\"init\" starts from the other run's EMA weights");
        }
        Path dec = tmp.resolve("dec.json");
        Files.writeString(dec, Files.readString(ae).replace("\"output\": \"runs/ae\"",
                "\"output\": \"runs/dec\", \"init\": \"runs/ae\", \"freeze\": [\"encoder.\", \"quant_conv.\"]"));
        assertEquals(0, Main.run("train", "autoencoder", "--config", dec.toString()));
        Path tuned = tmp.resolve("tuned");
        assertEquals(0, Main.run("export", "--run", tmp.resolve("runs/unet").toString(), "--vae-run", tmp.resolve("runs/dec").toString(),
                "-o", tuned.toString()));
        assertEquals(2, Main.run("export", "--run", tmp.resolve("runs/unet").toString(), "--vae-run", tmp.resolve("runs/ae2").toString(),
                "-o", tmp.resolve("refused").toString()), "a run that changed the encoder is refused");
        Path model = tmp.resolve("model");
        assertEquals(0, Main.run("export", "--run", tmp.resolve("runs/unet").toString(), "-o", model.toString()));
        assertEquals(0, Main.run("inspect", "--model", model.toString()), "inspect reads a MiniLM model directory");
        var sampling = new ObjectMapper().readTree(model.resolve("model_index.json").toFile()).path("_edgegen_sampling");
        assertEquals("ddim", sampling.path("sampler").asText(), "an exported model recommends what eval measures at: " + sampling);
        assertEquals(50, sampling.path("steps").asInt());
        assertEquals(5.0, sampling.path("cfg_scale").asDouble());
        assertEquals("BertModel", new ObjectMapper().readTree(model.resolve("text_encoder/config.json").toFile())
                .path("architectures").path(0).asText());
        var vaeCfg = new ObjectMapper().readTree(model.resolve("vae/config.json").toFile());
        assertEquals(4, vaeCfg.path("latents_mean").size(), "per-channel latent statistics measured on data: " + vaeCfg);
        assertEquals(4, vaeCfg.path("latents_std").size());
        assertTrue(vaeCfg.path("latents_std").path(0).asDouble() > 0);
        Path half = tmp.resolve("half");
        assertEquals(0, Main.run("export", "--run", tmp.resolve("runs/unet").toString(), "--half", "-o", half.toString()));
        try (SafetensorsFile f = SafetensorsFile.open(half.resolve("unet/diffusion_pytorch_model.safetensors"))) {
            assertEquals("F16", f.info("conv_in.weight").dtype().name());
        }
        assertTrue(Files.size(half.resolve("unet/diffusion_pytorch_model.safetensors"))
                < 0.6 * Files.size(model.resolve("unet/diffusion_pytorch_model.safetensors")), "--half halves the weights");

        // edgegen eval on the exported model: JSON, table and grid with every metric present
        Path out = tmp.resolve("eval/e");
        assertEquals(0, Main.run("eval", "--model", model.toString(), "--steps", "2", "--prompts", "held-out-2",
                "--prompts-per-set", "3", "--sweep-cfg", "1,4", "-o", out.toString()));
        var report = new ObjectMapper().readTree(tmp.resolve("eval/e.json").toFile());
        assertEquals(2, report.path("results").size(), "one result per guidance scale");
        var r0 = report.path("results").path(0);
        assertEquals(12, r0.path("images").asInt());
        assertTrue(Double.isFinite(r0.path("fid").asDouble()) && r0.path("fid").asDouble() > 0, r0.toString());
        assertTrue(r0.path("fid_floor").asDouble() > 0 && r0.path("clip_score_real").asDouble() > 0.3, r0.toString());
        assertTrue(r0.path("following").path("colour").isNumber(), r0.toString());
        for (String k : List.of("first_pair", "other_pairs", "swapped")) assertTrue(r0.path("following").path(k).isNumber(), k + ": " + r0);
        assertTrue(Files.readString(tmp.resolve("eval/e.md")).contains("held-out-2, cfg 4.00: first named pair"));
        assertTrue(r0.path("vae_psnr").asDouble() > 5, r0.toString());
        assertTrue(Files.size(tmp.resolve("eval/e-sweep.png")) > 1000);
        assertEquals(2, Main.run("eval", "--model", model.toString(), "--prompts", "nonsense", "-o", out.toString()));
        // eval --binding: the gap to a wrongly bound prompt per set and timestep, without sampling
        Path bindOut = tmp.resolve("eval/bind");
        assertEquals(0, Main.run("eval", "--binding", "--negative", "shape_leak", "--model", model.toString(), "--prompts", "held-out-2,val",
                "--prompts-per-set", "3", "-o", bindOut.toString()));
        var bind = new ObjectMapper().readTree(tmp.resolve("eval/bind.json").toFile()).path("results");
        assertEquals(2, bind.size(), bind.toString());
        for (var b : bind) {
            assertEquals(3, b.path("scenes").asInt(), b.toString());
            assertEquals("SHAPE_LEAK", b.path("negative").asText(), b.toString());
            for (var g : b.path("gap")) assertTrue(Double.isFinite(g.asDouble()), b.toString());
        }
        assertEquals(2, Main.run("eval", "--binding", "--model", model.toString(), "--prompts", "held-out-1", "-o", bindOut.toString()),
                "one-object prompts have nothing to swap");
        assertEquals(2, Main.run("eval", "--binding", "--negative", "colour_swap", "--model", model.toString(), "--prompts", "val",
                "-o", bindOut.toString()), "an unknown kind of negative");
        // eval --autoencoder: the same round trip, judged from the training run alone
        Path aeOut = tmp.resolve("eval/ae");
        assertEquals(0, Main.run("eval", "--autoencoder", tmp.resolve("runs/ae").toString(), "--prompts", "held-out-2",
                "-o", aeOut.toString()));
        var ae0 = new ObjectMapper().readTree(tmp.resolve("eval/ae.json").toFile()).path("results").path(0);
        assertEquals(r0.path("vae_psnr").asDouble(), ae0.path("psnr").asDouble(), 1e-3, ae0.toString());
        assertEquals(r0.path("vae_following").path("colour_and_shape").asDouble(), ae0.path("following").path("colour_and_shape").asDouble(), 1e-9);
        double latentHf = ae0.path("latent_high_frequency").asDouble(-1), imageHf = ae0.path("image_high_frequency").asDouble(-1);
        assertTrue(latentHf > 0 && latentHf < 1 && imageHf > 0 && imageHf < 1, "high-frequency shares in (0, 1): " + ae0);
        assertEquals(2, Main.run("eval", "--autoencoder", tmp.resolve("runs/unet").toString(), "-o", aeOut.toString()), "a UNet run is refused");
        assertEquals(2, Main.run("eval", "--autoencoder", tmp.resolve("runs/ae").toString(), "--model", model.toString(),
                "-o", aeOut.toString()), "--autoencoder and --model are exclusive");

        try (NDManager m = NDManager.newBaseManager();
             SafetensorsFile before = SafetensorsFile.open(model.resolve("vae/diffusion_pytorch_model.safetensors"));
             SafetensorsFile after = SafetensorsFile.open(tuned.resolve("vae/diffusion_pytorch_model.safetensors"))) {
            var x = before.loadAll(m);
            var y = after.loadAll(m);
            assertEquals(0f, x.get("encoder.conv_in.weight").sub(y.get("encoder.conv_in.weight")).abs().max().getFloat());
            assertTrue(x.get("decoder.conv_out.weight").sub(y.get("decoder.conv_out.weight")).abs().max().getFloat() > 0f);
        }
        try (NDManager root = NDManager.newBaseManager(); StableDiffusion sd = ModelLoader.load(model, root)) {
            assertTrue(sd.textEncoder instanceof MiniLmEncoder);
            assertEquals(384, sd.textEncoder.hiddenSize());
            assertEquals(12, sd.textEncoder.tokenize("a red circle").ids().length);
            assertTrue(sd.textEncoder.tokenize("a small red circle to the left of a big blue square on a gray background").truncated());
            TextToImage.Result r = new TextToImage(sd).generate(new GenerationRequest("a red circle", "", 2, 3f, "ddim", 1,
                    64, 64, 1, null, 0.75f, null, null, null), null);
            BufferedImage im = r.images().get(0);
            assertEquals(64, im.getWidth());
            int[] px = im.getRGB(0, 0, 64, 64, null, 0, 64);
            assertFalse(Arrays.stream(px).allMatch(p -> p == px[0]), "a constant image");
        }
    }
}
