"""ros2 launch vgssl_ros localize.launch.py model:=model.onnx map:=map_dir [image_topic:=/camera/image_raw]
[autostart:=false]."""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration, PythonExpression
from launch_ros.actions import Node

from launch import LaunchDescription


def generate_launch_description() -> LaunchDescription:
    """The localizer node with config/localizer.yaml, model and map paths, and the camera topic remapped."""
    default_params = str(Path(get_package_share_directory("vgssl_ros")) / "config" / "localizer.yaml")
    args = [
        DeclareLaunchArgument("model", description="path to model.onnx (vgssl-train export)"),
        DeclareLaunchArgument("map", description="path to the map directory (vgssl-map build)"),
        DeclareLaunchArgument(
            "image_topic",
            default_value="/camera/image_raw",
            description="camera topic; with compressed:=true its /compressed sibling is used",
        ),
        DeclareLaunchArgument(
            "compressed",
            default_value="false",
            description="subscribe to sensor_msgs/CompressedImage on <image_topic>/compressed",
        ),
        DeclareLaunchArgument("params_file", default_value=default_params, description="node parameters (YAML)"),
        DeclareLaunchArgument("use_sim_time", default_value="false", description="true with `ros2 bag play --clock`"),
        DeclareLaunchArgument(
            "autostart",
            default_value="true",
            description="configure and activate at start; false = a lifecycle manager drives the node",
        ),
    ]
    parameters = [
        LaunchConfiguration("params_file"),
        {
            "model": LaunchConfiguration("model"),
            "map": LaunchConfiguration("map"),
            "compressed": PythonExpression(["'", LaunchConfiguration("compressed"), "'.lower() == 'true'"]),
            "use_sim_time": PythonExpression(["'", LaunchConfiguration("use_sim_time"), "'.lower() == 'true'"]),
            "autostart": PythonExpression(["'", LaunchConfiguration("autostart"), "'.lower() == 'true'"]),
        },
    ]
    raw = Node(
        package="vgssl_ros",
        executable="localizer",
        name="localizer",
        output="screen",
        parameters=parameters,
        remappings=[("image", LaunchConfiguration("image_topic"))],
        condition=UnlessCondition(LaunchConfiguration("compressed")),
    )
    compressed = Node(
        package="vgssl_ros",
        executable="localizer",
        name="localizer",
        output="screen",
        parameters=parameters,
        remappings=[("image/compressed", [LaunchConfiguration("image_topic"), "/compressed"])],
        condition=IfCondition(LaunchConfiguration("compressed")),
    )
    return LaunchDescription([*args, raw, compressed])
