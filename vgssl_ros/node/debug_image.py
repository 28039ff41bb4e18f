"""~/debug_image (sensor_msgs/Image, rgb8): the camera frame beside the map thumbnail of the published place, with
the localizer's verdict; with a model exported with `--activation`, its activation map over the camera frame.
Rendered only while someone subscribes: without a subscriber a frame costs one count."""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from rclpy.lifecycle import LifecyclePublisher
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from vgssl_ros.core.debug_view import debug_lines, render_debug_view
from vgssl_ros.core.decode import decode_compressed, decode_image
from vgssl_ros.core.errors import DecodeError
from vgssl_ros.core.localizer import FrameResult, LocalizerCore


def rgb8_image(rgb: np.ndarray, stamp: Time, frame_id: str) -> Image:
    """uint8 RGB [H, W, 3] -> sensor_msgs/Image rgb8 (no row padding)."""
    h, w = rgb.shape[:2]
    msg = Image(header=Header(stamp=stamp, frame_id=frame_id), height=h, width=w, encoding="rgb8", step=3 * w)
    msg.data = np.ascontiguousarray(rgb, np.uint8).tobytes()
    return msg


class DebugImagePublisher:
    """Renders onto ``publisher`` (the node's ~/debug_image) a frame's view, only when it has subscribers."""

    def __init__(self, publisher: LifecyclePublisher[Image], core: LocalizerCore) -> None:
        self.core, self.publisher = core, publisher

    def wants_activation(self) -> bool:
        """Whether the next frame should bring its activation map: the model has one and someone subscribes."""
        return self.core.embedder.has_activation and self.publisher.get_subscription_count() > 0

    def publish(self, msg: Image | CompressedImage, result: FrameResult) -> bool:
        """Render and publish the view of ``msg`` (the input frame, decoded again) and its ``result``, stamped with
        the frame's stamp; False (and no work) when nobody subscribes."""
        if self.publisher.get_subscription_count() == 0:
            return False
        frame = self._frame(msg)
        geo_map = self.core.map
        lines = debug_lines(result, geo_map.places.ids)
        place_image = None
        if geo_map.thumbnails is not None:
            try:
                place_image = geo_map.thumbnails.image(result.answer.place)
            except DecodeError as exc:
                lines.append((f"thumbnail unreadable: {exc}", (240, 80, 80)))
        view = render_debug_view(frame, place_image, lines, activation=result.activation)
        self.publisher.publish(rgb8_image(view, msg.header.stamp, ""))
        return True

    def _frame(self, msg: Image | CompressedImage) -> np.ndarray:
        data = np.frombuffer(msg.data, np.uint8)
        if isinstance(msg, CompressedImage):
            return decode_compressed(msg.format, data, max_pixels=self.core.settings.max_image_pixels)
        return decode_image(msg.encoding, msg.height, msg.width, msg.step, bool(msg.is_bigendian), data)
