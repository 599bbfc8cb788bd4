"""A rich progress display for training (used by the CLI; the library itself never prints)."""

from __future__ import annotations

from rich.console import Console


def rich_training_callback(console: Console):
    import keras
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    class RichProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            # Keras fills params with the epoch and step counts fit() was given.
            self.total_epochs = int(self.params.get("epochs") or 1)
            self.steps = self.params.get("steps")
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"),
                console=console,
                transient=False,
            )
            self.progress.start()
            self.epochs = self.progress.add_task("epochs", total=self.total_epochs, info="")
            self.batches = self.progress.add_task("steps", total=self.steps, info="")

        def on_epoch_begin(self, epoch, logs=None):
            self.progress.update(self.epochs, completed=epoch)
            self.progress.reset(self.batches, total=self.steps, description=f"epoch {epoch + 1}")

        def on_train_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            self.progress.update(
                self.batches, completed=batch + 1, info=f"loss {float(loss):.4f}" if loss else ""
            )

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            self.progress.update(self.epochs, completed=epoch + 1)
            f1 = {k[len("val_f1_") :]: v for k, v in logs.items() if k.startswith("val_f1_")}
            self.progress.console.print(
                f"epoch {epoch + 1}: loss {logs.get('loss', float('nan')):.4f}  "
                f"val_loss {logs.get('val_loss', float('nan')):.4f}  "
                f"val macro-F1 {logs.get('val_macro_f1', float('nan')):.4f}  "
                + "  ".join(f"F1[{k}] {v:.3f}" for k, v in f1.items())
            )

        def on_train_end(self, logs=None):
            self.progress.stop()

    return RichProgress()
